"""Writing events to the outbox, in the caller's transaction, and choosing who hears them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from telehealth.accounts.models import Role, User
from telehealth.db import new_id, table_of, utcnow
from telehealth.outbound.models import EventType, OutboxEvent
from telehealth.patients.models import CareTeamMember

#: `Session.info` keys: the ids of the events the session's transaction wrote, and of the
#: deliveries it made due again (a manual resend), handed to the queue once it commits
#: (telehealth.worker.tasks); a rolled-back transaction hands over nothing.
WRITTEN = "outbox_written"
RESEND = "outbox_resend"
INSERT_EVENT = table_of(OutboxEvent).insert()


@dataclass(frozen=True)
class Event:
    """An event to write: its type, its data (identifiers and codes only) and the users to
    tell in person (inbox and email)."""

    type: EventType
    data: dict[str, Any]
    recipients: Iterable[uuid.UUID] = ()

    def row(self) -> dict[str, Any]:
        return {
            "id": new_id(),
            "type": self.type,
            "data": {key: _plain(value) for key, value in self.data.items()},
            "recipients": sorted({str(user_id) for user_id in self.recipients}),
            "created_at": utcnow(),
        }


def emit(
    session: Session,
    type: EventType,
    data: dict[str, Any],
    recipients: Iterable[uuid.UUID] = (),
) -> uuid.UUID:
    """Write an event to the outbox in the caller's transaction; its id. `data` holds
    identifiers and codes only; `recipients` are the users to tell in person (inbox and
    email)."""
    (event_id,) = emit_all(session, [Event(type, data, recipients)])
    return event_id


def emit_all(session: Session, events: Iterable[Event]) -> list[uuid.UUID]:
    """Write the events of one change to the outbox in one INSERT; their ids.

    A plain INSERT: nothing reads an event back in the transaction that writes it, so the
    ORM's bookkeeping for new objects would be all cost."""
    rows = [event.row() for event in events]
    if rows:
        session.execute(INSERT_EVENT, rows)
        session.info.setdefault(WRITTEN, []).extend(row["id"] for row in rows)
    return [row["id"] for row in rows]


def deliver_after_commit(session: Session, delivery_id: uuid.UUID) -> None:
    """Send a delivery again as soon as the caller's transaction commits."""
    session.info.setdefault(RESEND, []).append(delivery_id)


def _plain(value: Any) -> Any:
    """A JSON value: ids and times as strings."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value"):  # an enum
        return value.value
    return value


def care_teams(session: Session, patient_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The active clinicians of each patient's care team, in one query."""
    teams: dict[uuid.UUID, list[uuid.UUID]] = {}
    if patient_ids:
        for patient_id, clinician_id in session.execute(
            select(CareTeamMember.patient_id, User.id)
            .join(CareTeamMember, CareTeamMember.clinician_id == User.id)
            .where(CareTeamMember.patient_id.in_(patient_ids), User.is_active.is_(True))
            .order_by(CareTeamMember.patient_id, User.id)
        ):
            teams.setdefault(patient_id, []).append(clinician_id)
    return teams


def admins(session: Session) -> list[uuid.UUID]:
    """The clinic's active admins: the on-call route of the last escalation level."""
    return list(
        session.scalars(
            select(User.id)
            .where(User.role == Role.ADMIN, User.is_active.is_(True))
            .order_by(User.id)
        )
    )
