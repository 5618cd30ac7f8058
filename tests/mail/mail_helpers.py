"""Helpers of the email tests: carrying the outbox out the way the worker does (fan-out, then
one attempt per email delivery), without the worker, and reading what was stored."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from telehealth.extensions import db
from telehealth.mail.channel import channel
from telehealth.outbound.channels import Sent
from telehealth.outbound.delivery import deliver
from telehealth.outbound.dispatch import fan_out
from telehealth.outbound.events import emit
from telehealth.outbound.models import Channel, Delivery, EventType, OutboxEvent

TOKEN_IN_LINK = re.compile(r"/activate\?token=([A-Za-z0-9_\-]+)")


def deliver_emails(app: Flask) -> list[Delivery]:
    """Fan out every event not yet fanned out and make one attempt at each of its email
    deliveries (what the worker does); the email deliveries, as stored afterwards."""
    with app.app_context():
        with db.begin() as session:
            pending = session.scalars(
                select(OutboxEvent.id)
                .where(OutboxEvent.fanned_out_at.is_(None))
                .order_by(OutboxEvent.created_at, OutboxEvent.id)
            ).all()
        made: list[uuid.UUID] = []
        for event_id in pending:
            with db.begin() as session:
                made += fan_out(session, event_id)
        with db.begin() as session:
            emails = session.scalars(
                select(Delivery.id).where(Delivery.id.in_(made), Delivery.channel == Channel.EMAIL)
            ).all()
        for delivery_id in emails:
            deliver(delivery_id)
        with db.begin() as session:
            return list(session.scalars(select(Delivery).where(Delivery.id.in_(emails))).all())


def events_of(app: Flask, event_type: EventType) -> list[OutboxEvent]:
    with app.app_context(), db.begin() as session:
        return list(
            session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.type == event_type)
                .order_by(OutboxEvent.created_at)
            ).all()
        )


def emit_event(
    app: Flask, event_type: EventType, data: dict[str, Any], recipients: list[Any]
) -> uuid.UUID:
    """An event written straight to the outbox (committed), as the code that causes it would."""
    with app.app_context(), db.begin() as session:
        return emit(session, event_type, data, recipients)


def email_delivery(app: Flask, event_id: uuid.UUID, target_id: Any) -> uuid.UUID:
    """A pending email delivery of an event to a user, made by hand (no fan-out)."""
    with app.app_context(), db.begin() as session:
        delivery = Delivery(
            id=uuid.uuid4(),
            event_id=event_id,
            channel=Channel.EMAIL,
            target_id=uuid.UUID(str(target_id)),
        )
        session.add(delivery)
        return delivery.id


def prepared(app: Flask, delivery_id: uuid.UUID) -> Callable[[], Sent]:
    """The email channel's `prepare` for a delivery, in a committed transaction (as the worker
    runs it); the send it returns, not yet called."""
    with app.app_context(), db.begin() as session:
        delivery = session.get_one(Delivery, delivery_id)
        event = session.get_one(OutboxEvent, delivery.event_id)
        return channel.prepare(session, delivery, event)


def token_in(body: str) -> str:
    match = TOKEN_IN_LINK.search(body)
    assert match is not None, "no activation link in the email"
    return match.group(1)
