from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.db import Base, utcnow


class CalendarSubscription(Base):
    """A clinician's secret calendar feed URL, at most one per clinician.

    Calendar apps fetch a subscribed feed without any header, so the secret in the URL is the
    credential. Only its SHA-256 is kept: a copy of the database opens no feed. Rotating the
    URL replaces the hash; revoking it, deactivation and signing out everywhere delete the row.
    """

    __tablename__ = "calendar_subscriptions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
