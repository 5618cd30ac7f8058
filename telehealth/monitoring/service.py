"""Recording monitoring notes, signing and amending them, and the checkpoint timeline."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from telehealth.accounts.models import User
from telehealth.alerts.models import AlertKind, AlertSource
from telehealth.alerts.service import Trigger, raise_alerts
from telehealth.db import utcnow
from telehealth.errors import Conflict, Forbidden, NotFound, UnprocessableEntity
from telehealth.monitoring.checkpoints import (
    CheckpointRules,
    CheckpointStatus,
    due_times,
    outside_window,
    status_of,
)
from telehealth.monitoring.models import AdverseEvent, Checkpoint, MonitoringNote, NoteAmendment
from telehealth.monitoring.review import review_note
from telehealth.pagination import Page, SortKey, keyset_page
from telehealth.patients.service import visible_patient_ids
from telehealth.sessions.lifecycle import CLOSED_WITHOUT_TREATMENT
from telehealth.sessions.models import TreatmentSession
from telehealth.sessions.service import get_care_team_session, visible_sessions


def _refuse_outside_session_day(treatment: TreatmentSession, data: dict[str, Any]) -> None:
    """An observation lies between the opening of the session's day and now, and a note that
    records a checkpoint lies in that checkpoint's window."""
    config = current_app.config
    observed_at = data["observed_at"]
    skew = timedelta(minutes=config["CLOCK_SKEW_MINUTES"])
    if observed_at > utcnow() + skew:
        raise UnprocessableEntity(
            "An observation cannot be in the future.",
            errors={"observed_at": "Must not be in the future."},
        )
    opens = treatment.opens_at(timedelta(minutes=config["SESSION_EARLY_START_MINUTES"]))
    if observed_at < opens:
        raise UnprocessableEntity(
            "An observation cannot precede the session's day.",
            errors={"observed_at": f"Must be at or after {opens.isoformat(timespec='seconds')}."},
        )
    checkpoint = data.get("checkpoint")
    if checkpoint is not None:
        problem = outside_window(
            checkpoint, observed_at, treatment.medication_taken_at, CheckpointRules.of(config)
        )
        if problem is not None:
            raise UnprocessableEntity(
                "The note is outside its checkpoint's window.", errors=problem
            )


def add_note(
    session: Session, actor: User, session_id: uuid.UUID, data: dict[str, Any]
) -> MonitoringNote:
    # Locked, so that the medication cannot be recorded between the window check and the
    # insert (a pre-session note must precede it).
    treatment = get_care_team_session(session, actor, session_id, for_update=True)
    _refuse_outside_session_day(treatment, data)
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


def timeline(session: Session, treatment: TreatmentSession) -> list[CheckpointStatus]:
    """Each checkpoint's due time and status (pending, done, late or overdue), computed when
    read; the first note that records a checkpoint is the one that counts."""
    recorded: dict[Checkpoint | None, tuple[uuid.UUID, datetime]] = {}
    for name, note_id, observed_at in session.execute(
        select(MonitoringNote.checkpoint, MonitoringNote.id, MonitoringNote.observed_at)
        .where(
            MonitoringNote.session_id == treatment.id,
            MonitoringNote.checkpoint.is_not(None),
        )
        .order_by(MonitoringNote.observed_at, MonitoringNote.id)
    ):
        recorded.setdefault(name, (note_id, observed_at))
    rules = CheckpointRules.of(current_app.config)
    # A cancelled or missed session has nothing left to fall behind on.
    now = utcnow() if treatment.status not in CLOSED_WITHOUT_TREATMENT else None
    return [
        status_of(name, due_at, recorded.get(name), now, rules.grace)
        for name, due_at in _due_times(treatment, current_app.config).items()
    ]


def _due_times(treatment: TreatmentSession, config: Any) -> dict[Checkpoint, datetime | None]:
    return due_times(
        treatment.scheduled_start, treatment.medication_taken_at, CheckpointRules.of(config)
    )


#: How far back the overdue sweep looks: sessions that started within this window (and those
#: whose day has opened: the medication may be taken before the scheduled start).
OVERDUE_SWEEP_WINDOW = timedelta(hours=24)
#: An overdue checkpoint's alert names its session (`GET /sessions/{id}`) and the checkpoint;
#: the checkpoint is the alert's `occurrence`, so each checkpoint of a session is raised once.
CHECKPOINT_SOURCE = AlertSource.SESSION


def raise_overdue_checkpoint_alerts(session: Session, actor: User) -> None:
    """Overdue checkpoints of the actor's patients' recent sessions (an admin's: every
    patient's), raised before their alerts are listed. The worker raises them as they fall due
    (`telehealth.worker.checks`); this keeps the list right even when no worker has run."""
    raise_overdue_checkpoint_alerts_among(session, visible_sessions(actor))


def raise_overdue_checkpoint_alerts_among(
    session: Session, sessions: Select[TreatmentSession]
) -> None:
    """Raise a `checkpoint_overdue` alert for each overdue checkpoint of the recent sessions
    among `sessions`: the sessions, their checkpoint notes, then one INSERT of the overdue
    checkpoints' alerts that skips those raised already."""
    now, config = utcnow(), current_app.config
    early = timedelta(minutes=config["SESSION_EARLY_START_MINUTES"])
    recent = list(
        session.scalars(
            sessions.where(
                TreatmentSession.status.not_in(CLOSED_WITHOUT_TREATMENT),
                TreatmentSession.scheduled_start >= now - OVERDUE_SWEEP_WINDOW,
                TreatmentSession.scheduled_start <= now + early,
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
                    source_id=treatment.id,
                    session_id=treatment.id,
                    checkpoint=name,
                    occurrence=name.value,
                    reason=f"Review the session: the {name.value} checkpoint was due at "
                    f"{due_at.isoformat()} and no note records it.",
                )
            )
    raise_alerts(session, overdue)
