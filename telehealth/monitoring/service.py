"""Recording monitoring notes, signing and amending them, and the checkpoint timeline."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from telehealth.accounts.models import User
from telehealth.alerts.models import AlertKind
from telehealth.alerts.service import Trigger, raise_alerts
from telehealth.db import utcnow
from telehealth.errors import Conflict, Forbidden, NotFound, UnprocessableEntity
from telehealth.monitoring.models import AdverseEvent, Checkpoint, MonitoringNote, NoteAmendment
from telehealth.monitoring.review import review_note
from telehealth.pagination import Page, SortKey, keyset_page
from telehealth.patients.service import visible_patient_ids
from telehealth.sessions.models import SessionStatus, TreatmentSession
from telehealth.sessions.service import get_care_team_session, visible_sessions

CLOSED_WITHOUT_TREATMENT = (SessionStatus.CANCELLED, SessionStatus.NO_SHOW)


def _refuse_future(observed_at: datetime) -> None:
    skew = timedelta(minutes=current_app.config["CLOCK_SKEW_MINUTES"])
    if observed_at > utcnow() + skew:
        raise UnprocessableEntity(
            "An observation cannot be in the future.",
            errors={"observed_at": "Must not be in the future."},
        )


def add_note(
    session: Session, actor: User, session_id: uuid.UUID, data: dict[str, Any]
) -> MonitoringNote:
    treatment = get_care_team_session(session, actor, session_id)
    _refuse_future(data["observed_at"])
    vitals = data.pop("vitals", None) or {}
    adverse_event = data.pop("adverse_event", None)
    note = MonitoringNote(
        session_id=treatment.id,
        patient_id=treatment.patient_id,
        author_id=actor.id,
        adverse_event=AdverseEvent(**adverse_event) if adverse_event else None,
        amendments=[],
        **vitals,
        **data,
    )
    session.add(note)
    session.flush()
    review_note(session, note, current_app.config["REVIEW_FLAGS"])
    return note


def visible_notes(actor: User) -> Select[MonitoringNote]:
    return select(MonitoringNote).where(MonitoringNote.patient_id.in_(visible_patient_ids(actor)))


def get_note(
    session: Session, actor: User, note_id: uuid.UUID, *, for_update: bool = False
) -> MonitoringNote:
    statement = visible_notes(actor).where(MonitoringNote.id == note_id)
    if for_update:
        statement = statement.with_for_update(of=MonitoringNote)
    note = session.scalar(statement)
    if note is None:
        raise NotFound("No such note.")
    return note


def list_notes(
    session: Session, treatment: TreatmentSession, *, limit: int, cursor: str | None = None
) -> Page[MonitoringNote]:
    """Notes of a session the caller may see (`sessions.service.get_session`)."""
    return keyset_page(
        session,
        select(MonitoringNote).where(MonitoringNote.session_id == treatment.id),
        [SortKey(MonitoringNote.observed_at, "observed_at"), SortKey(MonitoringNote.id, "id")],
        limit=limit,
        cursor=cursor,
    )


def sign(session: Session, actor: User, note_id: uuid.UUID) -> MonitoringNote:
    """The author signs; a signed note is locked (amendments still add to it)."""
    note = get_note(session, actor, note_id, for_update=True)
    if note.author_id != actor.id:
        raise Forbidden("Only the note's author may sign it.")
    if note.signed_at is not None:
        raise Conflict("The note is already signed.")
    note.signed_at = utcnow()
    session.flush()
    return note


def amend(
    session: Session, actor: User, note_id: uuid.UUID, *, text: str, reason: str
) -> NoteAmendment:
    note = get_note(session, actor, note_id)
    get_care_team_session(session, actor, note.session_id)
    amendment = NoteAmendment(note=note, author_id=actor.id, text=text, reason=reason)
    session.add(amendment)
    session.flush()
    return amendment


@dataclass(frozen=True)
class CheckpointStatus:
    name: Checkpoint
    due_at: datetime | None
    status: str  # pending, done or overdue
    note_id: uuid.UUID | None


def timeline(session: Session, treatment: TreatmentSession) -> list[CheckpointStatus]:
    """Each checkpoint's due time and status, computed when read.

    Pre-session is due at the scheduled start (it is recorded before the medication is taken);
    +40 min and end-of-session count from `medication_taken_at` and have no due time until
    then. A checkpoint is overdue once the grace period after its due time has passed with no
    note recording it.
    """
    recorded = dict(
        session.execute(
            select(MonitoringNote.checkpoint, MonitoringNote.id)
            .where(
                MonitoringNote.session_id == treatment.id,
                MonitoringNote.checkpoint.is_not(None),
            )
            .order_by(MonitoringNote.observed_at)
        ).all()
    )
    config = current_app.config
    grace = timedelta(minutes=config["CHECKPOINT_GRACE_MINUTES"])
    # A cancelled or missed session has nothing left to fall behind on.
    now = utcnow() if treatment.status not in CLOSED_WITHOUT_TREATMENT else None
    return [
        _status(name, due_at, recorded.get(name), now, grace)
        for name, due_at in _due_times(treatment, config).items()
    ]


def _due_times(treatment: TreatmentSession, config: Any) -> dict[Checkpoint, datetime | None]:
    taken = treatment.medication_taken_at
    return {
        Checkpoint.PRE_SESSION: treatment.scheduled_start,
        Checkpoint.PLUS_40_MIN: (
            taken + timedelta(minutes=config["CHECKPOINT_PLUS_40_MINUTES"]) if taken else None
        ),
        Checkpoint.END_OF_SESSION: (
            taken + timedelta(minutes=config["CHECKPOINT_END_OF_SESSION_MINUTES"])
            if taken
            else None
        ),
    }


def _status(
    name: Checkpoint,
    due_at: datetime | None,
    note_id: uuid.UUID | None,
    now: datetime | None,
    grace: timedelta,
) -> CheckpointStatus:
    if note_id is not None:
        state = "done"
    elif due_at is not None and now is not None and now > due_at + grace:
        state = "overdue"
    else:
        state = "pending"
    return CheckpointStatus(name, due_at, state, note_id)


#: How far back the overdue sweep looks: sessions that started within this window.
OVERDUE_SWEEP_WINDOW = timedelta(hours=24)
CHECKPOINT_SOURCE = "session_checkpoint"


def checkpoint_source_id(session_id: uuid.UUID, checkpoint: Checkpoint) -> uuid.UUID:
    """A stable id for one checkpoint of one session, so its overdue alert is raised once."""
    return uuid.uuid5(session_id, checkpoint.value)


def raise_overdue_checkpoint_alerts(session: Session, actor: User) -> None:
    """Raise a `checkpoint_overdue` alert for each overdue checkpoint of the actor's patients'
    recent sessions. There is no background worker: this runs when the care team reads its
    alerts: the recent sessions, their checkpoint notes, then one INSERT of the overdue
    checkpoints' alerts that skips those raised already."""
    now = utcnow()
    recent = list(
        session.scalars(
            visible_sessions(actor).where(
                TreatmentSession.status.not_in(CLOSED_WITHOUT_TREATMENT),
                TreatmentSession.scheduled_start >= now - OVERDUE_SWEEP_WINDOW,
                TreatmentSession.scheduled_start <= now,
            )
        )
    )
    if not recent:
        return
    recorded = {
        (row.session_id, row.checkpoint)
        for row in session.execute(
            select(MonitoringNote.session_id, MonitoringNote.checkpoint).where(
                MonitoringNote.session_id.in_([treatment.id for treatment in recent]),
                MonitoringNote.checkpoint.is_not(None),
            )
        )
    }
    config = current_app.config
    grace = timedelta(minutes=config["CHECKPOINT_GRACE_MINUTES"])
    overdue = []
    for treatment in recent:
        for name, due_at in _due_times(treatment, config).items():
            done = (treatment.id, name) in recorded
            if done or due_at is None or now <= due_at + grace:
                continue
            overdue.append(
                Trigger(
                    patient_id=treatment.patient_id,
                    kind=AlertKind.CHECKPOINT_OVERDUE,
                    source_type=CHECKPOINT_SOURCE,
                    source_id=checkpoint_source_id(treatment.id, name),
                    reason=f"Review the session: the {name.value} checkpoint was due at "
                    f"{due_at.isoformat()} and no note records it.",
                )
            )
    raise_alerts(session, overdue)
