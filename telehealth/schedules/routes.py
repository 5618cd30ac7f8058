"""Check-in schedules: the care team's plan for a patient, and what is due now."""

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
from telehealth.schedules import service
from telehealth.schedules.models import CheckinPlan
from telehealth.schedules.schemas import DueOut, PlanIn, PlanOut

blp = Blueprint("schedules", __name__, url_prefix="/api/v1", description="Check-in schedules")


def _answer(plan: CheckinPlan) -> tuple[CheckinPlan, dict[str, str]]:
    return plan, {"ETag": etag_of(plan.version)}


@blp.get("/patients/<uuid:patient_id>/schedule")
@audited("schedule.read", "schedule", resource_arg="patient_id")
@authenticated(Role.CLINICIAN, Role.PATIENT)
@blp.response(200, PlanOut, headers=ETAG_HEADER)
@blp.doc(operationId="getPatientSchedule")
def get_schedule(patient_id: uuid.UUID) -> Any:
    """The patient's check-in plan: what they are asked for, at which local time, and whether
    they are reminded. New patients start with daily mood at 09:00, PHQ-9 and GAD-7 on Mondays
    and PCL-5 on the 1st of the month."""
    return _answer(service.get_plan(db.session, me(), patient_id))


@blp.put("/patients/<uuid:patient_id>/schedule")
@audited("schedule.update", "schedule", resource_arg="patient_id")
@authenticated(Role.CLINICIAN)
@blp.arguments(PlanIn())
@blp.response(200, PlanOut, headers=ETAG_HEADER)
@blp.doc(parameters=[{**IF_MATCH, "required": False}])
@blp.doc(operationId="replacePatientSchedule")
def replace_schedule(body: dict[str, Any], patient_id: uuid.UUID) -> Any:
    """Replace the plan (the care team). Times are wall-clock times in the patient's zone and
    stay so across daylight-saving changes. `If-Match`, when sent, must be the current ETag."""
    if_match = request.headers.get("If-Match")
    return _answer(service.replace_plan(db.session, me(), patient_id, **body, if_match=if_match))


@blp.get("/me/due")
@audited("schedule.due", "schedule")
@authenticated(Role.PATIENT)
@blp.response(200, DueOut)
@blp.doc(operationId="listDueItems")
def due_now() -> Any:
    """What the app should ask the patient for now: each plan item that is due and not yet
    done, and each whose last occurrence went by without it (`missed`). A check-in that
    contains an item (the mood, or the instrument's answers) does it."""
    audit_resource(patient_id=me().id)
    return {"items": service.due_now(db.session, me())}
