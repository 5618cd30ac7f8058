"""Mood check-ins: patients submit them (safe to retry); the care team and the patient read
them and the outcomes computed from them."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint

from telehealth.accounts.models import Role
from telehealth.audit.context import audit_resource, audited
from telehealth.auth.roles import authenticated, me
from telehealth.checkins import outcomes, service
from telehealth.checkins.schemas import (
    CheckInIn,
    CheckInOut,
    CheckInPage,
    CheckInQuery,
    OutcomesOut,
    SubmittedCheckInOut,
)
from telehealth.extensions import db
from telehealth.idempotency import idempotent

blp = Blueprint("checkins", __name__, url_prefix="/api/v1", description="Mood check-ins")

IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Retry safely: the same key and body replay the first response.",
}


@blp.post("/checkins")
@audited("checkin.create", "checkin")
@authenticated(Role.PATIENT)
@idempotent
@blp.arguments(CheckInIn())
@blp.response(201, SubmittedCheckInOut)
@blp.doc(parameters=[IDEMPOTENCY_KEY])
def submit_checkin(body: dict[str, Any]) -> Any:
    """Submit a mood check-in, with optional questionnaire answers scored on the server.

    A check-in that raises a suicidal-ideation alert answers with crisis-line text and says
    that the care team has been notified.
    """
    audit_resource(patient_id=me().id)
    submitted = service.submit(db.session, me(), body)
    audit_resource(resource_id=submitted.id)
    return submitted


@blp.get("/patients/<uuid:patient_id>/checkins")
@audited("checkin.list", "checkin")
@authenticated(Role.CLINICIAN, Role.PATIENT)
@blp.arguments(CheckInQuery(), location="query")
@blp.response(200, CheckInPage)
@blp.doc(operationId="listPatientCheckins")
def list_checkins(query: dict[str, Any], patient_id: uuid.UUID) -> Any:
    """A patient's check-ins, newest first; filters `from`, `to`, `instrument`,
    `updated_since`."""
    return service.list_checkins(db.session, me(), patient_id, **query)


@blp.get("/checkins/<uuid:checkin_id>")
@audited("checkin.read", "checkin", resource_arg="checkin_id")
@authenticated(Role.CLINICIAN, Role.PATIENT)
@blp.response(200, CheckInOut)
def get_checkin(checkin_id: uuid.UUID) -> Any:
    """One check-in with its scores."""
    checkin = service.get_checkin(db.session, me(), checkin_id)
    audit_resource(patient_id=checkin.patient_id)
    return checkin


@blp.get("/patients/<uuid:patient_id>/outcomes")
@audited("outcome.read", "outcome")
@authenticated(Role.CLINICIAN, Role.PATIENT)
@blp.response(200, OutcomesOut)
@blp.doc(operationId="getPatientOutcomes")
def patient_outcomes(patient_id: uuid.UUID) -> Any:
    """Per instrument: baseline, latest, change, response (a 50% drop), remission (under 5 for
    PHQ-9 and GAD-7), deterioration (5 points up) and the series for a chart."""
    return outcomes.visible_outcomes(db.session, me(), patient_id)
