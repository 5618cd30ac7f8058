"""Scheduling and the session lifecycle. Who may see a session follows who may see its patient
(`visible_patient_ids`); overlapping bookings are refused under row locks, so that of many
simultaneous requests for one slot exactly one wins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import Session, selectinload

from telehealth.accounts.models import Role, User
from telehealth.db import plain_rows, table_of, utcnow
from telehealth.errors import Conflict, NotFound, UnprocessableEntity
from telehealth.etags import require_if_match
from telehealth.pagination import GroupedList, Page, SortKey
from telehealth.patients.models import Patient
from telehealth.patients.service import (
    get_managed_patient,
    visible_patient_ids,
    visible_patient_ids_of,
)
from telehealth.sessions.models import (
    SessionStatus,
    SessionTransition,
    TreatmentSession,
    local_start,
    monitor,
)

#: The only moves the lifecycle allows: action -> (from, to).
MOVES: dict[str, tuple[SessionStatus, SessionStatus]] = {
    "start": (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS),
    "complete": (SessionStatus.IN_PROGRESS, SessionStatus.COMPLETED),
    "cancel": (SessionStatus.SCHEDULED, SessionStatus.CANCELLED),
    "no_show": (SessionStatus.SCHEDULED, SessionStatus.NO_SHOW),
}


#: The histories of a page of sessions, built once, in the relationship's order.
PAGE_TRANSITIONS = (
    select(
        SessionTransition.session_id,
        SessionTransition.from_status,
        SessionTransition.to_status,
        SessionTransition.actor_id,
        SessionTransition.occurred_at,
        SessionTransition.reason,
    )
    .where(SessionTransition.session_id.in_(bindparam("session_ids", expanding=True)))
    .order_by(SessionTransition.session_id, SessionTransition.occurred_at)
)


def visible_sessions(actor: User) -> Select[TreatmentSession]:
    """Sessions of the patients `actor` may see."""
    return select(TreatmentSession).where(
        TreatmentSession.patient_id.in_(visible_patient_ids(actor))
    )


def get_session(
    session: Session, actor: User, session_id: uuid.UUID, *, for_update: bool = False
) -> TreatmentSession:
    statement = visible_sessions(actor).where(TreatmentSession.id == session_id)
    if for_update:
        statement = statement.with_for_update(of=TreatmentSession)
    found = session.scalar(statement.options(selectinload(TreatmentSession.transitions)))
    if found is None:
        raise NotFound("No such session.")
    return found


def get_care_team_session(
    session: Session, actor: User, session_id: uuid.UUID, *, for_update: bool = False
) -> TreatmentSession:
    """A session the actor may act on as a clinician of the patient's care team."""
    if actor.role is not Role.CLINICIAN:
        raise NotFound("No such session.")
    return get_session(session, actor, session_id, for_update=for_update)


#: Sessions start within these bounds: beyond them the end or the patient's local time cannot be
#: computed (year 1 or 9999), or the local time has an offset in seconds (local mean time before
#: time zones), which RFC 3339 cannot write.
EARLIEST_START = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_START = datetime(2100, 1, 1, tzinfo=UTC)


def _refuse_implausible_start(start: datetime) -> None:
    if not EARLIEST_START <= start < LATEST_START:
        raise UnprocessableEntity(
            "A session must start between 2000 and 2099.",
            errors={"scheduled_start": "Must be from 2000-01-01 to 2099-12-31 (UTC)."},
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
    ignore: uuid.UUID | None = None,
) -> None:
    statement = select(TreatmentSession.id, TreatmentSession.patient_id).where(
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
    _refuse_implausible_start(scheduled_start)
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
    )
    session.add(booked)
    session.flush()
    return booked


def update(
    session: Session, actor: User, session_id: uuid.UUID, changes: dict[str, Any]
) -> TreatmentSession:
    """Reschedule or edit a scheduled session (If-Match), under the same overlap rule."""
    current = get_care_team_session(session, actor, session_id)
    get_managed_patient(session, actor, current.patient_id)
    _lock_clinician(session, current.clinician_id)
    session.refresh(current, with_for_update=True)
    require_if_match(current.version)
    if current.status is not SessionStatus.SCHEDULED:
        raise Conflict(f"A {current.status.value} session cannot be changed.")
    monitor = changes.pop("treatment_monitor", None)
    if monitor is not None:
        current.treatment_monitor_name = monitor["name"]
        current.treatment_monitor_phone = monitor["phone"]
    start = changes.pop("scheduled_start", current.scheduled_start)
    _refuse_implausible_start(start)
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
        ignore=current.id,
    )
    current.updated_at = utcnow()
    session.flush()
    return current


def move(
    session: Session, actor: User, session_id: uuid.UUID, action: str, reason: str | None = None
) -> TreatmentSession:
    """Apply one lifecycle move, or refuse it (409) and change nothing."""
    current = get_care_team_session(session, actor, session_id, for_update=True)
    source, target = MOVES[action]
    if current.status is not source:
        raise Conflict(
            f"A {current.status.value} session cannot be moved to {target.value}.",
            # Not "status": that member of a problem is the HTTP status and would overwrite it.
            extensions={"session_status": current.status.value},
        )
    current.status = target
    current.transitions.append(
        SessionTransition(from_status=source, to_status=target, actor_id=actor.id, reason=reason)
    )
    current.updated_at = utcnow()
    session.flush()
    return current


def record_medication_taken(
    session: Session, actor: User, session_id: uuid.UUID, taken_at: datetime | None
) -> TreatmentSession:
    """Record that (and when) the patient took the medication prescribed for this session.

    A fact, recorded once; it starts the monitoring timeline. No amount is ever stored.
    """
    current = get_session(session, actor, session_id, for_update=True)
    now = utcnow()
    taken_at = taken_at or now
    skew = timedelta(minutes=current_app.config["CLOCK_SKEW_MINUTES"])
    if taken_at > now + skew:
        raise UnprocessableEntity(
            "The medication cannot be taken in the future.",
            errors={"taken_at": "Must not be in the future."},
        )
    if current.status not in (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS):
        raise Conflict(f"A {current.status.value} session takes no medication record.")
    if current.medication_taken_at is not None:
        raise Conflict("The medication was already recorded as taken for this session.")
    current.medication_taken_at = taken_at
    current.medication_recorded_by_id = actor.id
    current.updated_at = now
    session.flush()
    return current


#: A page of sessions as rows: every column, and the patient's time zone beside them.
PAGE_COLUMNS = select(*table_of(TreatmentSession).c, Patient.timezone).join(
    Patient, Patient.id == TreatmentSession.patient_id
)


#: The session list: the caller's patients' sessions by start, optionally filtered.
SESSIONS = GroupedList(
    PAGE_COLUMNS,
    (
        SortKey(TreatmentSession.scheduled_start, "scheduled_start"),
        SortKey(TreatmentSession.id, "id"),
    ),
    TreatmentSession.patient_id,
    visible_patient_ids_of,
    {
        "patient_id": TreatmentSession.patient_id == bindparam("patient_id"),
        "status": TreatmentSession.status == bindparam("status"),
        "from_": TreatmentSession.scheduled_start >= bindparam("from_"),
        "to": TreatmentSession.scheduled_start < bindparam("to"),
        "updated_since": TreatmentSession.updated_at >= bindparam("updated_since"),
    },
)


def list_sessions(
    session: Session,
    actor: User,
    *,
    limit: int,
    cursor: str | None = None,
    patient_id: uuid.UUID | None = None,
    status: SessionStatus | None = None,
    from_: datetime | None = None,
    to: datetime | None = None,
    updated_since: datetime | None = None,
) -> Page[dict[str, Any]]:
    page = SESSIONS.page(
        session,
        actor.role,
        actor.id,
        limit=limit,
        cursor=cursor,
        patient_id=patient_id,
        status=status,
        from_=from_,
        to=to,
        updated_since=updated_since,
    )
    # The page as plain dicts, and one plain query for its histories: a hundred ORM objects
    # would cost more than the rest of the request.
    histories: dict[uuid.UUID, list[dict[str, Any]]] = {s["id"]: [] for s in page.items}
    if histories:
        for row in plain_rows(session, PAGE_TRANSITIONS, {"session_ids": list(histories)}):
            histories[row["session_id"]].append(row)
    for listed in page.items:  # what SessionOut writes beyond the columns
        listed["scheduled_start_local"] = local_start(listed["scheduled_start"], listed["timezone"])
        listed["treatment_monitor"] = monitor(
            listed["treatment_monitor_name"], listed["treatment_monitor_phone"]
        )
        listed["transitions"] = histories[listed["id"]]
    return page


def upcoming_for_clinician(
    session: Session, clinician: User, *, now: datetime, horizon_days: int = 90
) -> list[TreatmentSession]:
    """The clinician's own sessions from now on (cancelled ones too, so calendars drop them)."""
    return list(
        session.scalars(
            select(TreatmentSession)
            .join(Patient)
            .where(
                TreatmentSession.clinician_id == clinician.id,
                TreatmentSession.scheduled_end >= now,
                TreatmentSession.scheduled_start < now + timedelta(days=horizon_days),
            )
            .order_by(TreatmentSession.scheduled_start, TreatmentSession.id)
        )
    )
