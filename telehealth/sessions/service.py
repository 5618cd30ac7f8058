"""Scheduling and the session lifecycle. Who may see a session follows who may see its patient
(`visible_patient_ids`); overlapping bookings are refused under row locks, so that of many
simultaneous requests for one slot exactly one wins."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import Session, selectinload

from telehealth.accounts.models import Role, User
from telehealth.db import plain_rows, table_of, utcnow
from telehealth.errors import Conflict, NotFound, UnprocessableEntity
from telehealth.etags import require_if_match
from telehealth.monitoring.models import Checkpoint, MonitoringNote
from telehealth.outbound.events import emit
from telehealth.outbound.models import EventType
from telehealth.pagination import GroupedList, Page, SortKey
from telehealth.patients.models import Patient
from telehealth.patients.service import (
    get_managed_patient,
    require_visible_patient,
    visible_patient_ids,
    visible_patient_ids_of,
)
from telehealth.sessions.models import (
    SHOWN_COLUMNS,
    SessionStatus,
    SessionTransition,
    SessionView,
    TransitionView,
    TreatmentSession,
)

#: The only moves the lifecycle allows: action -> (from, to).
MOVES: dict[str, tuple[SessionStatus, SessionStatus]] = {
    "start": (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS),
    "complete": (SessionStatus.IN_PROGRESS, SessionStatus.COMPLETED),
    "cancel": (SessionStatus.SCHEDULED, SessionStatus.CANCELLED),
    "no_show": (SessionStatus.SCHEDULED, SessionStatus.NO_SHOW),
}

#: Sessions that ended without treatment: nothing left to monitor or fall behind on.
CLOSED_WITHOUT_TREATMENT = (SessionStatus.CANCELLED, SessionStatus.NO_SHOW)


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


def move(
    session: Session, actor: User, session_id: uuid.UUID, action: str, reason: str | None = None
) -> TreatmentSession:
    """Apply one lifecycle move, or refuse it (409) and change nothing."""
    current = get_care_team_session(session, actor, session_id, for_update=True)
    source, target = MOVES[action]
    if current.medication_taken_at is not None and target in CLOSED_WITHOUT_TREATMENT:
        raise Conflict(
            "The medication was taken: the patient still needs monitoring, so the session "
            f"cannot be marked {target.value}. Complete it instead (with a reason if it must "
            "end early).",
            extensions={"session_status": current.status.value},
        )
    if current.status is not source:
        raise Conflict(
            f"A {current.status.value} session cannot be moved to {target.value}.",
            # Not "status": that member of a problem is the HTTP status and would overwrite it.
            extensions={"session_status": current.status.value},
        )
    if action == "start":
        _refuse_early_or_late_start(current)
    if action == "complete":
        missing = missing_for_completion(session, current)
        if missing and reason is None:
            raise Conflict(
                "The session cannot be completed yet: "
                + "; ".join(item["detail"] for item in missing)
                + ". Record and sign what is missing, or complete it with a reason.",
                extensions={"missing": missing},
            )
        current.completion_reason = reason
    current.status = target
    current.transitions.append(
        SessionTransition(from_status=source, to_status=target, actor_id=actor.id, reason=reason)
    )
    current.updated_at = utcnow()
    session.flush()
    announce(session, current, EventType.SESSION_CHANGED)
    return current


def _refuse_early_or_late_start(current: TreatmentSession) -> None:
    now = utcnow()
    opens = current.opens_at(timedelta(minutes=_settings()["SESSION_EARLY_START_MINUTES"]))
    if now < opens:
        raise Conflict(
            f"This session starts at {current.scheduled_start:%Y-%m-%d %H:%M} UTC; it can be "
            f"started from {opens:%Y-%m-%d %H:%M} UTC.",
            extensions={"session_status": current.status.value},
        )
    if now >= current.scheduled_end:
        raise Conflict(
            f"This session's time ended at {current.scheduled_end:%Y-%m-%d %H:%M} UTC: "
            "reschedule it or mark it a no-show.",
            extensions={"session_status": current.status.value},
        )


def missing_for_completion(session: Session, current: TreatmentSession) -> list[dict[str, Any]]:
    """What the rules ask for before a session is completed and is not there: the
    end-of-session checkpoint once the medication was taken, and every note signed."""
    missing: list[dict[str, Any]] = []
    notes = session.execute(
        select(MonitoringNote.id, MonitoringNote.checkpoint, MonitoringNote.signed_at)
        .where(MonitoringNote.session_id == current.id)
        .order_by(MonitoringNote.observed_at, MonitoringNote.id)
    ).all()
    recorded = {note.checkpoint for note in notes}
    if current.medication_taken_at is not None and Checkpoint.END_OF_SESSION not in recorded:
        missing.append(
            {
                "kind": "checkpoint",
                "checkpoint": Checkpoint.END_OF_SESSION.value,
                "detail": "the end-of-session checkpoint is not recorded",
            }
        )
    missing.extend(
        {"kind": "signature", "note_id": str(note.id), "detail": f"note {note.id} is not signed"}
        for note in notes
        if note.signed_at is None
    )
    return missing


def record_medication_taken(
    session: Session, actor: User, session_id: uuid.UUID, taken_at: datetime | None
) -> TreatmentSession:
    """Record that (and when) the patient took the medication prescribed for this session.

    A fact, recorded once, while the session is in progress (the clinician is with the patient
    on the call); it starts the monitoring timeline. No amount is ever stored.
    """
    current = get_session(session, actor, session_id, for_update=True)
    config, now = _settings(), utcnow()
    taken_at = taken_at or now
    skew = timedelta(minutes=config["CLOCK_SKEW_MINUTES"])
    if taken_at > now + skew:
        raise UnprocessableEntity(
            "The medication cannot be taken in the future.",
            errors={"taken_at": "Must not be in the future."},
        )
    if current.status is not SessionStatus.IN_PROGRESS:
        raise Conflict(
            f"A {current.status.value} session takes no medication record: start the session "
            "first (the clinician is with the patient on the call).",
            extensions={"session_status": current.status.value},
        )
    if current.medication_taken_at is not None:
        raise Conflict("The medication was already recorded as taken for this session.")
    opens = current.opens_at(timedelta(minutes=config["SESSION_EARLY_START_MINUTES"]))
    if taken_at < opens:
        raise UnprocessableEntity(
            "The medication cannot be taken before the session's day opens.",
            errors={"taken_at": f"Must be at or after {opens.isoformat(timespec='seconds')}."},
        )
    last_pre_session = session.scalar(
        select(func.max(MonitoringNote.observed_at)).where(
            MonitoringNote.session_id == current.id,
            MonitoringNote.checkpoint == Checkpoint.PRE_SESSION,
        )
    )
    if last_pre_session is not None and taken_at <= last_pre_session:
        raise UnprocessableEntity(
            "The pre-session checkpoint precedes the medication.",
            errors={
                "taken_at": "Must be after the pre-session note "
                f"({last_pre_session.isoformat(timespec='seconds')})."
            },
        )
    current.medication_taken_at = taken_at
    current.medication_recorded_by_id = actor.id
    current.updated_at = now
    session.flush()
    announce(session, current, EventType.SESSION_CHANGED)
    return current


#: A page of sessions as rows: the columns a session shows, and the patient's time zone.
PAGE_COLUMNS = select(
    *(table_of(TreatmentSession).c[name] for name in SHOWN_COLUMNS), Patient.timezone
).join(Patient, Patient.id == TreatmentSession.patient_id)


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
    with_transitions: bool = False,
) -> Page[SessionView]:
    """A page of the caller's sessions; their histories only `with_transitions` (one more
    query for the whole page)."""
    # A `patient_id` the caller may not see is 404, as the record itself would be: an empty
    # page would confirm nothing, yet log a successful read in that patient's access log.
    if patient_id is not None:
        require_visible_patient(session, actor, patient_id)
    # Plain rows, not ORM objects: a hundred of those would cost more than the rest of the
    # request.
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
    histories = _histories(session, [row["id"] for row in page.items]) if with_transitions else {}
    return Page(
        [SessionView(**row, transitions=histories.get(row["id"])) for row in page.items],
        page.next_cursor,
    )


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


def _histories(
    session: Session, session_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[TransitionView]]:
    """The status histories of a page of sessions, in one query."""
    histories: dict[uuid.UUID, list[TransitionView]] = {each: [] for each in session_ids}
    if session_ids:
        for row in plain_rows(session, PAGE_TRANSITIONS, {"session_ids": session_ids}):
            histories[row.pop("session_id")].append(TransitionView(**row))
    return histories


#: What a calendar feed shows: what is still to happen, and what was called off.
CALENDAR_STATUSES = (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS, SessionStatus.CANCELLED)


def upcoming_for_clinician(
    session: Session, clinician: User, *, now: datetime, horizon_days: int = 90
) -> list[TreatmentSession]:
    """The clinician's own sessions that have not ended yet (cancelled ones too, so calendars
    drop them; completed and no-show ones are over, however early, so not), of the patients
    whose care team they are on: a former member's feed drops the rest."""
    return list(
        session.scalars(
            select(TreatmentSession)
            .join(Patient)
            .where(
                TreatmentSession.clinician_id == clinician.id,
                TreatmentSession.patient_id.in_(visible_patient_ids(clinician)),
                TreatmentSession.status.in_(CALENDAR_STATUSES),
                TreatmentSession.scheduled_end >= now,
                TreatmentSession.scheduled_start < now + timedelta(days=horizon_days),
            )
            .order_by(TreatmentSession.scheduled_start, TreatmentSession.id)
        )
    )
