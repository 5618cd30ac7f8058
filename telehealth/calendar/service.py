"""Calendar subscriptions: subscribing (and rotating), revoking, and finding whose feed a secret
opens. The secret is shown once, in the URL; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from telehealth.accounts.models import Role, User
from telehealth.calendar.models import CalendarSubscription
from telehealth.db import table_of, utcnow
from telehealth.errors import NotFound

#: The one answer to a secret that opens nothing: unknown, rotated, revoked, or its clinician
#: deactivated all look alike.
NO_SUCH_FEED = "No such calendar feed."


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _upsert(dialect: Any) -> Any:
    """Insert the clinician's row, or replace its secret: one statement, so two concurrent
    subscribe calls cannot both insert (the last one's URL is the one that works)."""
    table = table_of(CalendarSubscription)
    statement = dialect.insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.user_id],
        set_={
            "secret_hash": statement.excluded.secret_hash,
            "created_at": statement.excluded.created_at,
        },
    )


UPSERT = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


def subscribe(session: Session, clinician: User) -> str:
    """A new feed secret for the clinician; any earlier one stops working at once."""
    secret = secrets.token_urlsafe(32)
    session.execute(
        UPSERT[session.get_bind().dialect.name],
        {"user_id": clinician.id, "secret_hash": secret_hash(secret), "created_at": utcnow()},
    )
    return secret


def revoke(session: Session, user_id: uuid.UUID) -> None:
    """End the user's feed, if they have one: its URL answers 404 from now on."""
    session.execute(delete(CalendarSubscription).where(CalendarSubscription.user_id == user_id))


def subscriber(session: Session, secret: str) -> User:
    """The active clinician whose feed `secret` opens; 404 for anything else."""
    clinician = session.scalar(
        select(User)
        .join(CalendarSubscription, CalendarSubscription.user_id == User.id)
        .where(
            CalendarSubscription.secret_hash == secret_hash(secret),
            User.is_active.is_(True),
            User.role == Role.CLINICIAN,
        )
    )
    if clinician is None:
        raise NotFound(NO_SUCH_FEED)
    return clinician
