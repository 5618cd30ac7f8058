"""Patient records and care teams."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask_smorest import Blueprint

from telehealth.accounts.models import Role
from telehealth.audit.context import audit_resource, audited
from telehealth.auth.roles import authenticated, me
from telehealth.etags import ETAG_HEADER, IF_MATCH, etag_of
from telehealth.extensions import db
from telehealth.patients import care_teams, records, service
from telehealth.patients.schemas import (
    CareTeamOut,
    InvitedPatientOut,
    PatientIn,
    PatientOut,
    PatientPage,
    PatientPatch,
    PatientQuery,
    patient_changes,
)

blp = Blueprint("patients", __name__, url_prefix="/api/v1", description="Patients and care teams")


@blp.post("/patients")
@audited("patient.create", "patient")
@authenticated(Role.CLINICIAN, Role.ADMIN)
@blp.arguments(PatientIn())
@blp.response(201, InvitedPatientOut, headers=ETAG_HEADER)
@blp.alt_response(409, description="An account with this email already exists.")
@blp.alt_response(
    422,
    description="Invalid fields; `clinician_id` missing (an admin must name one) or not an active"
    " clinician.",
)
def create_patient(body: dict[str, Any]) -> Any:
    """Create a patient with at least one active clinician on the care team: the creating
    clinician, and the one `clinician_id` names (an admin must name one). The patient is
    invited by email (when email is configured); outside production the answer also carries
    the invitation token."""
    invited = records.create_patient(db.session, me(), **body)
    patient = invited.record
    audit_resource(resource_id=patient.id, patient_id=patient.id)
    return invited, {"ETag": etag_of(patient.version)}


@blp.get("/patients")
@audited("patient.list", "patient")
@authenticated(Role.CLINICIAN, Role.ADMIN)
@blp.arguments(PatientQuery(), location="query")
@blp.response(200, PatientPage)
def list_patients(query: dict[str, Any]) -> Any:
    """The caller's care-team patients (admin: all), by name; `q` matches part of the name."""
    return records.list_patients(db.session, me(), **query)


@blp.get("/patients/<uuid:patient_id>")
@audited("patient.read", "patient", resource_arg="patient_id")
@authenticated()
@blp.response(200, PatientOut, headers=ETAG_HEADER)
def get_patient(patient_id: uuid.UUID) -> Any:
    """One patient: for their care team, the patient themselves, and admins."""
    patient = service.get_patient(db.session, me(), patient_id)
    return patient, {"ETag": etag_of(patient.version)}


@blp.patch("/patients/<uuid:patient_id>")
@audited("patient.update", "patient", resource_arg="patient_id")
@authenticated(Role.CLINICIAN, Role.ADMIN, Role.PATIENT)
@blp.arguments(PatientPatch(partial=True))
@blp.response(200, PatientOut, headers=ETAG_HEADER)
@blp.alt_response(
    403,
    description="A patient may change only their own `timezone` and `emergency_contact`; `errors`"
    " names the fields that are the care team's to change.",
)
@blp.alt_response(409, description="An account with this email already exists.")
@blp.doc(parameters=[IF_MATCH])
def update_patient(body: dict[str, Any], patient_id: uuid.UUID) -> Any:
    """Change a patient's details: the care team and admins any of them; the patient, on
    their own record, `timezone` and `emergency_contact`. A patient who sends `name`, `email`
    or `date_of_birth` gets 403 with `errors` naming each (a valid request the caller may not
    make, so not 422): the email is the account's sign-in and the name and date of birth say
    who the patient is, so the care team changes them. A new `timezone` moves the reminders
    not yet sent. Needs `If-Match` with the current ETag (428 without, 412 when stale)."""
    changes = patient_changes(body)
    if_match = request.headers.get("If-Match")
    patient = records.update_patient(db.session, me(), patient_id, changes, if_match)
    return patient, {"ETag": etag_of(patient.version)}


@blp.put("/patients/<uuid:patient_id>/care-team/<uuid:clinician_id>")
@audited("care_team.add", "care_team", resource_arg="clinician_id")
@authenticated(Role.CLINICIAN, Role.ADMIN)
@blp.response(200, CareTeamOut)
@blp.alt_response(404, description="No such patient, or no such active clinician.")
def add_care_team_member(patient_id: uuid.UUID, clinician_id: uuid.UUID) -> Any:
    """Add an active clinician to the care team (idempotent)."""
    return {"items": care_teams.add_to_care_team(db.session, me(), patient_id, clinician_id)}


@blp.delete("/patients/<uuid:patient_id>/care-team/<uuid:clinician_id>")
@audited("care_team.remove", "care_team", resource_arg="clinician_id")
@authenticated(Role.CLINICIAN, Role.ADMIN)
@blp.response(204)
@blp.alt_response(404, description="No such patient, or the clinician is not on its care team.")
@blp.alt_response(
    409,
    description="A care team keeps at least one active clinician (`patient_ids` names the "
    "patient).",
)
def remove_care_team_member(patient_id: uuid.UUID, clinician_id: uuid.UUID) -> None:
    """Remove a clinician from the care team; the last active clinician stays (409)."""
    care_teams.remove_from_care_team(db.session, me(), patient_id, clinician_id)
