"""Building the demo clinic: the plan's eight weeks replayed, step by step, through the services
the API uses, each at its own moment on a clock set back to it.

Every step is what one request would do: its body is loaded by the route's own schema (so the
API's validation applies), the service does the work under the same rules and raises the same
alerts, and the step's audit event is written by the function the request boundary uses. All
steps run in one transaction, so a clinic is built whole or not at all.

This module runs the steps; `timeline` lays them out and `actions` holds what each one does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import time_machine
from flask import current_app
from marshmallow import Schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from telehealth import context
from telehealth.accounts.models import User
from telehealth.audit import chain
from telehealth.audit.context import AuditContext
from telehealth.demo import plan

Body = dict[str, Any]


@dataclass(frozen=True)
class Step:
    """One thing that happens in the clinic, at its moment."""

    at: datetime
    label: str
    run: Callable[[Builder], None]


@dataclass
class Builder:
    """Runs the steps in one session, remembering what earlier steps made."""

    session: Session
    users: dict[str, User] = field(default_factory=dict)
    invitations: dict[str, str] = field(default_factory=dict)
    booked: dict[tuple[str, int], uuid.UUID] = field(default_factory=dict)
    notes: dict[tuple[str, int, str], uuid.UUID] = field(default_factory=dict)
    request_number: int = 0

    def run(self, steps: Iterable[Step]) -> None:
        """Each step on the clock of its moment; the clock is back to now afterwards."""
        with time_machine.travel(datetime(2000, 1, 1, tzinfo=UTC), tick=False) as traveller:
            for step in steps:
                traveller.move_to(step.at)
                step.run(self)

    @contextmanager
    def request(
        self, actor: User | None, action: str, resource_type: str, status: int = 200
    ) -> Iterator[AuditContext]:
        """What a request around a service call adds: the caller and, once the work is done,
        the audit event, written as the request boundary writes it."""
        self.request_number += 1
        # A request context of its own, as the route has: the audit event reads the caller's
        # address from it.
        environ = {"REMOTE_ADDR": "127.0.0.1"}
        with current_app.test_request_context("/api/v1", environ_base=environ):
            context.set_current_actor(actor)
            context.set_request_id(f"demo-{self.request_number:05d}")
            audit = AuditContext(action=action, resource_type=resource_type)
            yield audit
            chain.append(self.session, audit.event(status))
            context.set_current_actor(None)
            context.set_request_id(None)


def load(schema: Schema, body: Body) -> Body:
    """The body as the route would hand it to the service, after the route's own validation."""
    loaded: Body = schema.load(body)
    return loaded


def stamp(moment: datetime) -> str:
    return moment.isoformat()


def exists(session: Session) -> bool:
    """The demo clinic was built (it is built whole or not at all; earlier versions of the
    demo made the same admin)."""
    return session.scalar(select(User.id).where(User.email == plan.ADMIN[0])) is not None
