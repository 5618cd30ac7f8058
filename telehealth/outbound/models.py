"""The outbox, the inbox and the deliveries log."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.accounts.models import enum_column
from telehealth.db import Base, new_id, utcnow


class EventType(enum.StrEnum):
    """Everything the service announces. Each event carries identifiers and codes only."""

    ALERT_RAISED = "alert.raised"
    ALERT_ESCALATED = "alert.escalated"
    ALERT_ACKNOWLEDGED = "alert.acknowledged"
    CHECKIN_SUBMITTED = "checkin.submitted"
    CHECKIN_DUE = "checkin.due"
    CHECKIN_MISSED = "checkin.missed"
    SESSION_SCHEDULED = "session.scheduled"
    SESSION_CHANGED = "session.changed"
    SESSION_REMINDER = "session.reminder"
    CHECKPOINT_OVERDUE = "checkpoint.overdue"
    #: A signed head of the audit trail, published for the clinic to keep outside the database.
    AUDIT_ANCHOR = "audit.anchor"
    #: Internal: an account's invitation, emailed to its owner; never sent to a webhook.
    ACCOUNT_INVITED = "account.invited"
    #: Internal: a password reset link, emailed to the account's owner; never sent to a webhook.
    ACCOUNT_PASSWORD_RESET = "account.password_reset"


#: Emailed to their one recipient only: no inbox entry, no webhook.
ACCOUNT_EVENTS = frozenset({EventType.ACCOUNT_INVITED, EventType.ACCOUNT_PASSWORD_RESET})

#: The events the clinic's systems may subscribe to (webhooks); the others are internal.
PUBLIC_EVENTS = frozenset(EventType) - ACCOUNT_EVENTS


class OutboxEvent(Base):
    """Something to tell, written in the same transaction as the change that causes it, so that
    what was committed is always announced and nothing else is. Its id is the event's one
    stable id (the `webhook-id` of every delivery and retry)."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        # The sweep looks for events not yet fanned out, oldest first.
        Index("ix_outbox_events_pending", "fanned_out_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    type: Mapped[EventType] = mapped_column(enum_column(EventType, "event_type"))
    #: Identifiers and codes only (patient_id, alert_id, kind, priority, ...): what a webhook
    #: carries. Never a name, an answer, a score, a note or a vital sign.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The users to tell in person (inbox, email), as id strings, chosen when the event is
    #: written; empty for events only the clinic's systems hear.
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When its inbox entries and deliveries were made (once, by whichever worker got there).
    fanned_out_at: Mapped[datetime | None]


class Channel(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Delivery(Base):
    """One event carried to one target over one channel (an email to a user, a POST to a
    webhook endpoint): retried with growing delays until delivered, or failed for good."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "channel", "target_id"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The sweep: pending deliveries whose next attempt is due.
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        # A webhook's deliveries log, newest first.
        Index("ix_deliveries_target_created", "target_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    #: The user (email) or the webhook endpoint (webhook) it goes to.
    target_id: Mapped[uuid.UUID]
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    last_status_code: Mapped[int | None] = mapped_column(SmallInteger)
    #: What went wrong last, in the service's words (no response body is kept).
    last_error: Mapped[str | None] = mapped_column(String(200))
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: A worker that claims the delivery holds it until then; one that dies mid-send lets the
    #: claim run out, and another worker tries again.
    leased_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class Notification(Base):
    """An entry of a user's in-app inbox. Reading it needs a sign-in, so it may say more than an
    email: which kind of alert, which session."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "event_id"),
        Index("ix_notifications_user_created", "user_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    kind: Mapped[EventType] = mapped_column(enum_column(EventType, "notification_kind"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000))
    alert_id: Mapped[uuid.UUID | None]
    session_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
