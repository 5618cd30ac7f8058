"""The tasks the worker runs, and how work reaches the queue.

Events written to the outbox are handed to the queue when their transaction commits; whatever
the queue misses (it was down, a worker died) the periodic sweep finds in the database. Every
task is safe to run twice or on two workers at once: each claims its row with a conditional
UPDATE before acting.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from huey import crontab
from sqlalchemy import event
from sqlalchemy.orm import Session

from telehealth.extensions import db
from telehealth.outbound import delivery
from telehealth.outbound.dispatch import fan_out
from telehealth.outbound.events import RESEND, WRITTEN
from telehealth.worker.checks import due_work, run_checks
from telehealth.worker.queue import claim_slot, huey

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The app the worker runs tasks in (`bind`); requests and tests run them in their own.
_app: dict[str, Flask] = {}


def bind(app: Flask) -> None:
    """Run tasks in `app`'s context (the worker binds the app it was started with)."""
    _app["app"] = app


def in_app(function: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> T:
        if has_app_context():
            return function(*args, **kwargs)
        with _app["app"].app_context():
            return function(*args, **kwargs)

    return run


@huey.task()
@in_app
def dispatch(event_id: str) -> None:
    """Fan an event out, then send its deliveries."""
    with db.begin() as session:
        made = fan_out(session, uuid.UUID(event_id))
    for delivery_id in made:
        deliver(str(delivery_id))


@huey.task()
@in_app
def deliver(delivery_id: str) -> None:
    """One attempt at a delivery; a failed one is scheduled again after its wait (the sweep
    would find it too, but later)."""
    wait = delivery.deliver(uuid.UUID(delivery_id))
    if wait is not None:
        deliver.schedule((delivery_id,), delay=wait.total_seconds())


def enqueue(task: Any, *ids: uuid.UUID) -> None:
    """Hand work to the queue; if the queue is down, the sweep picks it up later."""
    for item in ids:
        try:
            task(str(item))
        except Exception:
            log.warning("queue unavailable; the sweep will pick up %s later", task.name)
            return


@event.listens_for(Session, "after_commit")
def _hand_over_committed_work(session: Session) -> None:
    written = session.info.pop(WRITTEN, None)
    if written:
        enqueue(dispatch, *written)
    resend = session.info.pop(RESEND, None)
    if resend:
        enqueue(deliver, *resend)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_work(session: Session) -> None:
    session.info.pop(WRITTEN, None)
    session.info.pop(RESEND, None)


# --- the periodic checks --------------------------------------------------------------------


@huey.periodic_task(crontab(minute="*"))
@in_app
def plan_ticks() -> None:
    """Every minute, schedule the next minute's ticks, one every `WORKER_TICK_SECONDS`."""
    every = current_app.config["WORKER_TICK_SECONDS"]
    for offset in range(0, 60, every):
        tick.schedule(delay=offset)


@huey.on_startup()
def _first_ticks() -> None:
    # Without this a new worker would wait for the next whole minute.
    plan_ticks.call_local()


@huey.task()
@in_app
def tick() -> None:
    """The periodic checks, once per tick slot however many workers scheduled it."""
    every = current_app.config["WORKER_TICK_SECONDS"]
    slot = int(time.time() // every)
    if not claim_slot("tick", slot):
        return
    run_checks(sweep)


def sweep(session: Session) -> None:
    """Queue the events and deliveries that are due but that no worker holds (a queue that
    lost them, or never got them)."""
    events, deliveries = due_work(session)
    enqueue(dispatch, *events)
    enqueue(deliver, *deliveries)
