"""Fanning an event out: its inbox entries and one delivery per channel and target, made once
however many workers get to the same event."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from telehealth.accounts.models import User
from telehealth.db import new_id, utcnow
from telehealth.outbound.inbox import entry_for
from telehealth.outbound.models import (
    ACCOUNT_EVENTS,
    Delivery,
    EventType,
    Notification,
    OutboxEvent,
)
from telehealth.outbound.registry import CHANNELS

#: Events that make an inbox entry for their recipients (account emails only go by email).
INBOX_EVENTS = frozenset(EventType) - ACCOUNT_EVENTS


def fan_out(session: Session, event_id: uuid.UUID) -> list[uuid.UUID]:
    """Make the event's inbox entries and deliveries, unless another worker did; the ids of
    the deliveries made. The event row is claimed first with a conditional UPDATE, so of
    several workers exactly one fans it out."""
    now = utcnow()
    claimed = session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id == event_id, OutboxEvent.fanned_out_at.is_(None))
        .values(fanned_out_at=now)
        .returning(OutboxEvent.id)
    ).scalar_one_or_none()
    if claimed is None:
        return []
    event = session.get_one(OutboxEvent, event_id)
    recipients = [uuid.UUID(user_id) for user_id in event.recipients]
    active = session.scalars(
        select(User).where(User.id.in_(recipients), User.is_active.is_(True)).order_by(User.id)
    ).all()
    for user in active if event.type in INBOX_EVENTS else ():
        title, body = entry_for(event, user.role)
        session.add(
            Notification(
                id=new_id(),
                user_id=user.id,
                event_id=event.id,
                kind=event.type,
                title=title,
                body=body,
                alert_id=_id(event.data.get("alert_id")),
                session_id=_id(event.data.get("session_id")),
                created_at=now,
            )
        )
    made = []
    for channel in CHANNELS.values():
        for target in channel.targets(session, event):
            delivery = Delivery(
                id=new_id(),
                event_id=event.id,
                channel=channel.name,
                target_id=target,
                created_at=now,
                next_attempt_at=now,
            )
            session.add(delivery)
            made.append(delivery.id)
    session.flush()
    return made


def _id(value: object) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None
