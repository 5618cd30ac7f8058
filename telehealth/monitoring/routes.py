"""Monitoring notes, their signatures and amendments, and the session's checkpoint timeline."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint

from telehealth.accounts.models import Role
from telehealth.audit.context import audit_resource, audited
from telehealth.auth.roles import authenticated, me
from telehealth.extensions import db
from telehealth.monitoring import service
from telehealth.monitoring.models import MonitoringNote
from telehealth.monitoring.schemas import (
    AmendmentIn,
    AmendmentOut,
    NoteIn,
    NoteOut,
    NotePage,
    NoteQuery,
    SignIn,
    TimelineOut,
)
from telehealth.sessions.service import get_session

blp = Blueprint("monitoring", __name__, url_prefix="/api/v1", description="Monitoring notes")


def _audited_note(note: MonitoringNote) -> MonitoringNote:
    audit_resource(resource_id=note.id, patient_id=note.patient_id)
    return note


@blp.post("/sessions/<uuid:session_id>/notes")
@audited("note.create", "monitoring_note")
@authenticated(Role.CLINICIAN)
@blp.arguments(NoteIn())
@blp.response(201, NoteOut)
def add_note(body: dict[str, Any], session_id: uuid.UUID) -> Any:
    """Record a monitoring note. Values outside the accepted ranges are 422; readings beyond
    the review thresholds and serious adverse events raise an alert for the care team."""
    return _audited_note(service.add_note(db.session, me(), session_id, body))


@blp.get("/sessions/<uuid:session_id>/notes")
@audited("note.list", "monitoring_note")
@authenticated(Role.CLINICIAN, Role.PATIENT)
@blp.arguments(NoteQuery(), location="query")
@blp.response(200, NotePage)
def list_notes(query: dict[str, Any], session_id: uuid.UUID) -> Any:
    """The session's notes with their amendments, in the order observed."""
    treatment = get_session(db.session, me(), session_id)
    audit_resource(patient_id=treatment.patient_id)
    return service.list_notes(db.session, treatment, **query)


@blp.get("/notes/<uuid:note_id>")
@audited("note.read", "monitoring_note", resource_arg="note_id")
@authenticated(Role.CLINICIAN, Role.PATIENT)
@blp.response(200, NoteOut)
def get_note(note_id: uuid.UUID) -> Any:
    """One note with its amendments."""
    return _audited_note(service.get_note(db.session, me(), note_id))


@blp.post("/notes/<uuid:note_id>/sign")
@audited("note.sign", "monitoring_note", resource_arg="note_id")
@authenticated(Role.CLINICIAN)
@blp.arguments(SignIn(), required=False)
@blp.response(200, NoteOut)
@blp.alt_response(403, description="Only the note's author may sign it.")
@blp.alt_response(409, description="The note is already signed.")
def sign_note(_body: dict[str, Any], note_id: uuid.UUID) -> Any:
    """The author signs the note, which locks it; signing again is 409."""
    return _audited_note(service.sign(db.session, me(), note_id))


@blp.post("/notes/<uuid:note_id>/amendments")
@audited("note.amend", "monitoring_note", resource_arg="note_id")
@authenticated(Role.CLINICIAN)
@blp.arguments(AmendmentIn())
@blp.response(201, AmendmentOut)
def amend_note(body: dict[str, Any], note_id: uuid.UUID) -> Any:
    """Add a correction; the original note stays as it was."""
    amendment = service.amend(db.session, me(), note_id, **body)
    audit_resource(patient_id=amendment.note.patient_id)
    return amendment


@blp.get("/sessions/<uuid:session_id>/timeline")
@audited("session.timeline", "session", resource_arg="session_id")
@authenticated(Role.CLINICIAN, Role.PATIENT)
@blp.response(200, TimelineOut)
@blp.doc(operationId="getSessionTimeline")
def session_timeline(session_id: uuid.UUID) -> Any:
    """Pre-session, +40 min and end-of-session checkpoints: due time and pending, done or
    overdue, computed now."""
    treatment = get_session(db.session, me(), session_id)
    audit_resource(patient_id=treatment.patient_id)
    return {
        "session_id": treatment.id,
        "medication_taken_at": treatment.medication_taken_at,
        "checkpoints": service.timeline(db.session, treatment),
    }
