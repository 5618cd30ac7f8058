"""Booking and rebooking a session: within the bounds of the calendar, and never
overlapping another session of the patient or the clinician. Overlaps are refused under row
locks, so that of many simultaneous requests for one slot exactly one wins."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from telehealth.accounts.models import User
from telehealth.db import utcnow
from telehealth.errors import Conflict, UnprocessableEntity
from telehealth.etags import require_if_match
from telehealth.outbound.events import emit
from telehealth.outbound.models import EventType
from telehealth.patients.service import get_managed_patient, visible_patient_ids
from telehealth.sessions.models import SessionStatus, TreatmentSession
from telehealth.sessions.service import get_care_team_session


def _settings() -> Any:
    return current_app.config


def _refuse_start_out_of_bounds(start: datetime) -> None:
    """A session is scheduled from now (less a grace for clock skew) to a year or so ahead: a
    start in the past would make its pre-session checkpoint overdue from the moment it is
    booked."""
    config, now = _settings(), utcnow()
    earliest = now - timedelta(minutes=config["SESSION_PAST_GRACE_MINUTES"])
    latest = now + timedelta(days=config["SESSION_MAX_DAYS_AHEAD"])
    if start < earliest:
        raise UnprocessableEntity(
            "A session cannot be scheduled in the past.",
            errors={"scheduled_start": f"Must be after {earliest.isoformat(timespec='seconds')}."},
        )
    if start > latest:
        raise UnprocessableEntity(
            "A session cannot be scheduled that far ahead.",
            errors={
                "scheduled_start": f"Must be at most {config['SESSION_MAX_DAYS_AHEAD']} days ahead."
            },
        )


def _lock_clinician(session: Session, clinician_id: uuid.UUID) -> None:
    # Patient row first (get_managed_patient), clinician row second: one order for every
    # booking, so two bookings can never wait on each other.
    session.execute(select(User.id).where(User.id == clinician_id).with_for_update())


def _refuse_overlap(
    session: Session,
    *,
    patient_id: uuid.UUID,
    clinician_id: uuid.UUID,
    start: datetime,
    end: datetime,
    actor: User,
    ignore: uuid.UUID | None = None,
) -> None:
    """409 on an overlap, naming the other session only if `actor` may see its patient (a
    clinician's session with a patient whose care team they have left stays anonymous)."""
    visible = TreatmentSession.patient_id.in_(visible_patient_ids(actor)).label("visible")
    statement = select(TreatmentSession.id, TreatmentSession.patient_id, visible).where(
        or_(
            TreatmentSession.clinician_id == clinician_id,
            TreatmentSession.patient_id == patient_id,
        ),
        TreatmentSession.status != SessionStatus.CANCELLED,
        TreatmentSession.scheduled_start < end,
        TreatmentSession.scheduled_end > start,
    )
    if ignore is not None:
        statement = statement.where(TreatmentSession.id != ignore)
    clash = session.execute(statement.limit(1)).first()
    if clash is not None:
        whose = "the patient" if clash.patient_id == patient_id else "the clinician"
        if not clash.visible:
            raise Conflict(f"This time overlaps another session of {whose}.")
        raise Conflict(
            f"This time overlaps another session of {whose} (session {clash.id}).",
            extensions={"conflicting_session_id": str(clash.id)},
        )


def schedule(
    session: Session,
    actor: User,
    *,
    patient_id: uuid.UUID,
    scheduled_start: datetime,
    duration_minutes: int,
    modality: Any,
    treatment_monitor: dict[str, str],
    notes: str | None = None,
) -> TreatmentSession:
    _refuse_start_out_of_bounds(scheduled_start)
    patient = get_managed_patient(session, actor, patient_id)
    _lock_clinician(session, actor.id)
    booked = TreatmentSession(
        patient=patient,
        clinician_id=actor.id,
        modality=modality,
        treatment_monitor_name=treatment_monitor["name"],
        treatment_monitor_phone=treatment_monitor["phone"],
        notes=notes,
        transitions=[],
    )
    booked.reschedule(scheduled_start, duration_minutes)
    _refuse_overlap(
        session,
        patient_id=patient.id,
        clinician_id=actor.id,
        start=booked.scheduled_start,
        end=booked.scheduled_end,
        actor=actor,
    )
    session.add(booked)
    session.flush()
    announce(session, booked, EventType.SESSION_SCHEDULED)
    return booked


def announce(session: Session, treatment: TreatmentSession, type_: EventType) -> None:
    """Tell the clinic's systems (webhooks) that a session was booked or changed: its ids and
    status only."""
    emit(
        session,
        type_,
        {
            "session_id": treatment.id,
            "patient_id": treatment.patient_id,
            "clinician_id": treatment.clinician_id,
            "status": treatment.status,
            "scheduled_start": treatment.scheduled_start,
        },
    )


def update(
    session: Session,
    actor: User,
    session_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: str | None,
) -> TreatmentSession:
    """Reschedule or edit a scheduled session (`if_match`: the If-Match header's value),
    under the same overlap rule."""
    current = get_care_team_session(session, actor, session_id)
    get_managed_patient(session, actor, current.patient_id)
    _lock_clinician(session, current.clinician_id)
    session.refresh(current, with_for_update=True)
    require_if_match(current.version, if_match)
    if current.status is not SessionStatus.SCHEDULED:
        raise Conflict(f"A {current.status.value} session cannot be changed.")
    monitor = changes.pop("treatment_monitor", None)
    if monitor is not None:
        current.treatment_monitor_name = monitor["name"]
        current.treatment_monitor_phone = monitor["phone"]
    start = changes.pop("scheduled_start", current.scheduled_start)
    if start != current.scheduled_start:
        _refuse_start_out_of_bounds(start)
    duration = changes.pop("duration_minutes", current.duration_minutes)
    current.reschedule(start, duration)
    for field, value in changes.items():
        setattr(current, field, value)
    _refuse_overlap(
        session,
        patient_id=current.patient_id,
        clinician_id=current.clinician_id,
        start=current.scheduled_start,
        end=current.scheduled_end,
        actor=actor,
        ignore=current.id,
    )
    current.updated_at = utcnow()
    session.flush()
    announce(session, current, EventType.SESSION_CHANGED)
    return current
