"""The in-app inbox: what each event says to the people it is for, and reading one's own."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from telehealth.accounts.models import Role, User
from telehealth.db import utcnow
from telehealth.errors import NotFound
from telehealth.outbound.models import EventType, Notification, OutboxEvent
from telehealth.pagination import Page, SortKey, keyset_page


def _words(code: object) -> str:
    return str(code or "").replace("_", " ")


def entry_for(event: OutboxEvent, role: Role) -> tuple[str, str]:
    """The inbox title and body of `event` for a user of `role`. Reading the inbox needs a
    sign-in, so it may name the kind of alert; it still quotes no answer, score or note."""
    data: dict[str, Any] = event.data
    if event.type is EventType.ALERT_RAISED:
        return (
            f"Safety alert to review: {_words(data.get('kind'))}",
            f"A new alert (priority {data.get('priority')}) needs a clinician's review. "
            "Open it to see where it came from and acknowledge it.",
        )
    if event.type is EventType.ALERT_ESCALATED:
        level = data.get("escalation_level")
        who = "the clinic's admins" if level == 2 else "the whole care team"
        return (
            f"Escalated: {_words(data.get('kind'))} alert not yet acknowledged",
            f"Nobody has acknowledged this alert in time, so {who} are told again "
            f"(level {level}). Open it and acknowledge it once someone has it in hand.",
        )
    if event.type is EventType.SESSION_REMINDER:
        if role is Role.PATIENT:
            return (
                "Reminder: your treatment session",
                f"Your session starts at {data.get('scheduled_start')}. Make sure your "
                "treatment monitor will be with you.",
            )
        return ("Reminder: upcoming session", f"A session starts at {data.get('scheduled_start')}.")
    if event.type is EventType.CHECKIN_DUE:
        return ("A check-in is due", "Please answer your check-in in the app.")
    if event.type is EventType.CHECKIN_MISSED:
        return ("Check-ins missed", "A patient has missed scheduled check-ins; open it to review.")
    return ("There is something to review", "Open the app to see what changed.")


def list_notifications(
    session: Session, user: User, *, limit: int, cursor: str | None = None
) -> Page[Notification]:
    """The user's own inbox, newest first."""
    return keyset_page(
        session,
        select(Notification).where(Notification.user_id == user.id),
        [SortKey(Notification.created_at, "created_at"), SortKey(Notification.id, "id")],
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def mark_read(session: Session, user: User, notification_id: uuid.UUID) -> Notification:
    """Mark one of the user's own entries read (once: reading it again keeps the first time).
    Another user's entry is not found."""
    session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.user_id == user.id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    found = session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user.id
        )
    )
    if found is None:
        raise NotFound("No such notification.")
    return found
