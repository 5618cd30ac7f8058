"""Treatment sessions: scheduling, rescheduling, lifecycle moves and the calendar feed."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request
from flask_smorest import Blueprint

from telehealth.accounts.models import Role
from telehealth.audit.context import audit_resource, audited
from telehealth.auth.roles import authenticated, me
from telehealth.etags import ETAG_HEADER, IF_MATCH, etag_of
from telehealth.extensions import db
from telehealth.openapi.marks import FILE_NAME
from telehealth.sessions import calendar, lifecycle, scheduling, service
from telehealth.sessions.models import SessionView, TreatmentSession
from telehealth.sessions.schemas import (
    TRANSITIONS,
    CancelIn,
    CompleteIn,
    EmptyIn,
    MedicationTakenIn,
    SessionIn,
    SessionOut,
    SessionPage,
    SessionPatch,
    SessionQuery,
)

blp = Blueprint("sessions", __name__, url_prefix="/api/v1", description="Treatment sessions")


def _answer(treatment: TreatmentSession) -> tuple[SessionView, dict[str, str]]:
    audit_resource(resource_id=treatment.id, patient_id=treatment.patient_id)
    return SessionView.of(treatment), {"ETag": etag_of(treatment.version)}


@blp.post("/sessions")
@audited("session.create", "session")
@authenticated(Role.CLINICIAN)
@blp.arguments(SessionIn())
@blp.response(201, SessionOut, headers=ETAG_HEADER)
@blp.alt_response(404, description="No such patient on the caller's care teams.")
@blp.alt_response(
    409,
    description="Overlaps another session of the clinician or the patient "
    "(`conflicting_session_id` names it).",
)
def schedule_session(body: dict[str, Any]) -> Any:
    """Schedule a session for a care-team patient; an overlap with another non-cancelled
    session of the same clinician or patient is 409, naming it."""
    audit_resource(patient_id=body["patient_id"])
    return _answer(scheduling.schedule(db.session, me(), **body))


@blp.get("/sessions")
@audited("session.list", "session")
@authenticated(Role.CLINICIAN, Role.PATIENT)
@blp.arguments(SessionQuery(), location="query")
@blp.response(200, SessionPage)
@blp.alt_response(404, description="`patient_id` names no patient the caller may see.")
def list_sessions(query: dict[str, Any]) -> Any:
    """The caller's sessions (a clinician's care-team patients', a patient's own), by start.
    A `patient_id` the caller may not see is 404, like the record itself. Each session's
    status history (`transitions`) only with `include=transitions`."""
    # A patient only ever lists their own sessions: name them, so it shows in their access log.
    own = me().id if me().role is Role.PATIENT else None
    audit_resource(patient_id=query.get("patient_id") or own)
    with_transitions = query.pop("include", None) == TRANSITIONS
    return service.list_sessions(db.session, me(), with_transitions=with_transitions, **query)


@blp.get("/sessions/<uuid:session_id>")
@audited("session.read", "session", resource_arg="session_id")
@authenticated(Role.CLINICIAN, Role.PATIENT)
@blp.response(200, SessionOut, headers=ETAG_HEADER)
def get_session(session_id: uuid.UUID) -> Any:
    """One session."""
    return _answer(service.get_session(db.session, me(), session_id))


@blp.patch("/sessions/<uuid:session_id>")
@audited("session.update", "session", resource_arg="session_id")
@authenticated(Role.CLINICIAN)
@blp.arguments(SessionPatch())
@blp.response(200, SessionOut, headers=ETAG_HEADER)
@blp.alt_response(
    409, description="The session is no longer scheduled, or the new time overlaps another session."
)
@blp.doc(parameters=[IF_MATCH])
def update_session(body: dict[str, Any], session_id: uuid.UUID) -> Any:
    """Reschedule or edit a scheduled session. Needs If-Match (428 without, 412 when stale)."""
    if_match = request.headers.get("If-Match")
    return _answer(scheduling.update(db.session, me(), session_id, body, if_match))


def _move(action: str, session_id: uuid.UUID, reason: str | None = None) -> Any:
    return _answer(lifecycle.move(db.session, me(), session_id, action, reason))


@blp.post("/sessions/<uuid:session_id>/start")
@audited("session.start", "session", resource_arg="session_id")
@authenticated(Role.CLINICIAN)
@blp.arguments(EmptyIn())
@blp.response(200, SessionOut, headers=ETAG_HEADER)
@blp.alt_response(
    409,
    description="Only a scheduled session can start, from `SESSION_EARLY_START_MINUTES` before "
    "its start until its end.",
)
def start_session(_body: dict[str, Any], session_id: uuid.UUID) -> Any:
    """scheduled -> in_progress, from `SESSION_EARLY_START_MINUTES` before the scheduled start
    until its scheduled end; any other move is 409."""
    return _move("start", session_id)


@blp.post("/sessions/<uuid:session_id>/complete")
@audited("session.complete", "session", resource_arg="session_id")
@authenticated(Role.CLINICIAN)
@blp.arguments(CompleteIn())
@blp.response(200, SessionOut, headers=ETAG_HEADER)
@blp.alt_response(
    409,
    description="Only a session in progress can complete; `missing` lists what the rules still "
    "ask for (the end-of-session checkpoint, signatures) unless a `reason` is given.",
)
def complete_session(body: dict[str, Any], session_id: uuid.UUID) -> Any:
    """in_progress -> completed. Once the medication was taken, the end-of-session checkpoint
    must be recorded, and every note of the session must be signed; otherwise 409 lists what is
    `missing`, unless `reason` says why the session ends without it (kept on the session)."""
    return _move("complete", session_id, body.get("reason"))


@blp.post("/sessions/<uuid:session_id>/cancel")
@audited("session.cancel", "session", resource_arg="session_id")
@authenticated(Role.CLINICIAN)
@blp.arguments(CancelIn())
@blp.response(200, SessionOut, headers=ETAG_HEADER)
@blp.alt_response(
    409,
    description="Only a scheduled session can be cancelled; never once the medication was taken.",
)
def cancel_session(body: dict[str, Any], session_id: uuid.UUID) -> Any:
    """scheduled -> cancelled, with a reason. Once the medication was taken, 409: the patient
    still needs monitoring."""
    return _move("cancel", session_id, body["reason"])


@blp.post("/sessions/<uuid:session_id>/no-show")
@audited("session.no_show", "session", resource_arg="session_id")
@authenticated(Role.CLINICIAN)
@blp.arguments(EmptyIn())
@blp.response(200, SessionOut, headers=ETAG_HEADER)
@blp.alt_response(
    409,
    description="Only a scheduled session can be marked a no-show; never once the medication was "
    "taken.",
)
def mark_no_show(_body: dict[str, Any], session_id: uuid.UUID) -> Any:
    """scheduled -> no_show. Once the medication was taken, 409."""
    return _move("no_show", session_id)


@blp.post("/sessions/<uuid:session_id>/medication-taken")
@audited("session.medication_taken", "session", resource_arg="session_id")
@authenticated(Role.CLINICIAN, Role.PATIENT)
@blp.arguments(MedicationTakenIn())
@blp.response(200, SessionOut, headers=ETAG_HEADER)
@blp.alt_response(409, description="Already recorded, or the session is not in progress.")
@blp.doc(operationId="recordMedicationTaken")
def medication_taken(body: dict[str, Any], session_id: uuid.UUID) -> Any:
    """Record that and when the patient took the medication prescribed for this session (a
    fact, never an amount), only while the session is in progress (409 otherwise). It starts
    the monitoring timeline; recorded once; after any pre-session note."""
    return _answer(
        lifecycle.record_medication_taken(db.session, me(), session_id, body.get("taken_at"))
    )


@blp.get("/calendar.ics")
@audited("session.calendar", "session")
@authenticated(Role.CLINICIAN)
@blp.response(
    200,
    calendar.ICALENDAR,
    content_type=calendar.ICALENDAR_TYPE,
    description=calendar.FEED_ANSWER,
    headers=FILE_NAME,
)
@blp.doc(operationId="getCalendarFeed")
def calendar_feed() -> Response:
    """The clinician's upcoming sessions as iCalendar (patients by initials only); cancelled
    ones stay in it marked cancelled, so calendars drop them. Calendar apps, which cannot send
    this header, subscribe through `POST /calendar/subscription` instead."""
    return calendar.feed_response(db.session, me())
