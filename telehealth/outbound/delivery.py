"""Carrying out one delivery: claim it, prepare it in a transaction, send it with none open,
record the outcome once.

At least once: a worker killed between sending and recording leaves the claim to run out, and
another worker sends again (the receiver deduplicates by the event id). Recorded once: the
outcome is written only by the worker whose claim (its attempt number) still holds, and only
while the delivery is pending.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from telehealth.db import utcnow
from telehealth.extensions import db
from telehealth.outbound.channels import Sent
from telehealth.outbound.models import Delivery, DeliveryStatus, OutboxEvent
from telehealth.outbound.registry import CHANNELS

log = logging.getLogger(__name__)

#: How long a claim holds: longer than any one send (webhooks and SMTP time out at 10 s).
LEASE = timedelta(seconds=60)


def claim(session: Session, delivery_id: uuid.UUID) -> Delivery | None:
    """Take a pending, due, unclaimed delivery for one attempt; None when it is not there to
    take (delivered, failed, not yet due, or another worker holds it)."""
    now = utcnow()
    taken = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.next_attempt_at <= now,
            or_(Delivery.leased_until.is_(None), Delivery.leased_until < now),
        )
        .values(attempts=Delivery.attempts + 1, leased_until=now + LEASE)
        .returning(Delivery.id)
    ).scalar_one_or_none()
    if taken is None:
        return None
    return session.scalars(
        select(Delivery).where(Delivery.id == taken).execution_options(populate_existing=True)
    ).one()


def record(session: Session, delivery: Delivery, attempt: int, sent: Sent) -> timedelta | None:
    """Write how attempt `attempt` went, if this worker's claim still holds; the wait before
    the next attempt, or None when there is none (delivered, failed for good, or not ours)."""
    now = utcnow()
    ours = (
        Delivery.id == delivery.id,
        Delivery.status == DeliveryStatus.PENDING,
        Delivery.attempts == attempt,
    )
    common = {"last_status_code": sent.status_code, "leased_until": None}
    if sent.delivered:
        session.execute(
            update(Delivery)
            .where(*ours)
            .values(status=DeliveryStatus.DELIVERED, delivered_at=now, last_error=None, **common)
        )
        return None
    delays = list(CHANNELS[delivery.channel].retry_delays) if delivery.channel in CHANNELS else []
    error = (sent.error or f"answered {sent.status_code}")[:200]
    if sent.final or attempt > len(delays):
        session.execute(
            update(Delivery)
            .where(*ours)
            .values(status=DeliveryStatus.FAILED, last_error=error, **common)
        )
        return None
    wait = delays[attempt - 1]
    changed = session.execute(
        update(Delivery)
        .where(*ours)
        .values(next_attempt_at=now + wait, last_error=error, **common)
        .returning(Delivery.id)
    ).scalar_one_or_none()
    return wait if changed is not None else None


def deliver(delivery_id: uuid.UUID) -> timedelta | None:
    """One attempt at one delivery (in an app context); the wait before the next attempt, if
    one is needed."""
    with db.begin() as session:
        delivery = claim(session, delivery_id)
        if delivery is None:
            return None
        attempt = delivery.attempts
        event = session.get_one(OutboxEvent, delivery.event_id)
        channel = CHANNELS.get(delivery.channel)
        send: Callable[[], Sent] = (
            channel.prepare(session, delivery, event)
            if channel is not None
            else (lambda: Sent(False, error="channel not configured", final=True))
        )
    try:
        sent = send()
    except Exception:  # a channel's bug must not leave the delivery claimed until the lease ends
        log.exception("delivery %s: the send failed", delivery_id)
        sent = Sent(False, error="the send failed")
    with db.begin() as session:
        return record(session, delivery, attempt, sent)
