"""Reading sessions: who may see a session follows who may see its patient
(`visible_patient_ids`); one session, a page of them, and a clinician's upcoming ones for the
calendar feed. Booking lives in `scheduling`, the status moves and the medication record in
`lifecycle`."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, selectinload

from telehealth.accounts.models import Role, User
from telehealth.db import plain_rows, table_of
from telehealth.errors import NotFound
from telehealth.pagination import GroupedList, Page, SortKey
from telehealth.patients.models import Patient
from telehealth.patients.service import (
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
