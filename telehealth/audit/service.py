"""Reading the audit trail: a patient's access log, and the whole trail for admins.

Only events linked into the chain are shown: one written around the application (no sequence)
is what `flask audit verify` reports, never a line of anyone's log."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from telehealth.accounts.models import User
from telehealth.audit.models import AuditEvent, Outcome
from telehealth.pagination import Page, SortKey, keyset_page

#: Events in the chain (see telehealth.audit.chain).
LINKED = AuditEvent.sequence.is_not(None)
NEWEST_FIRST = [SortKey(AuditEvent.occurred_at, "occurred_at"), SortKey(AuditEvent.id, "id")]


def access_log(
    session: Session, patient_id: uuid.UUID, *, limit: int, cursor: str | None = None
) -> Page[AuditEvent]:
    """Who read or changed this patient's record (see `patients.service.get_patient` for who
    may ask), newest first."""
    return keyset_page(
        session,
        select(AuditEvent).where(AuditEvent.patient_id == patient_id, LINKED),
        NEWEST_FIRST,
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def search(
    session: Session,
    *,
    limit: int,
    cursor: str | None = None,
    actor_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    action: str | None = None,
    outcome: Outcome | None = None,
    from_: datetime | None = None,
    to: datetime | None = None,
) -> Page[AuditEvent]:
    statement = select(AuditEvent).where(LINKED)
    if actor_id is not None:
        statement = statement.where(AuditEvent.actor_id == actor_id)
    if patient_id is not None:
        statement = statement.where(AuditEvent.patient_id == patient_id)
    if action is not None:
        statement = statement.where(AuditEvent.action == action)
    if outcome is not None:
        statement = statement.where(AuditEvent.outcome == outcome)
    if from_ is not None:
        statement = statement.where(AuditEvent.occurred_at >= from_)
    if to is not None:
        statement = statement.where(AuditEvent.occurred_at < to)
    return keyset_page(
        session, statement, NEWEST_FIRST, limit=limit, cursor=cursor, descending=True
    )


def actor_names(session: Session, events: list[AuditEvent]) -> dict[uuid.UUID, str]:
    """Names of the actors of a page of events, in one query."""
    ids = {event.actor_id for event in events if event.actor_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()
    return {row.id: row.name for row in rows}
