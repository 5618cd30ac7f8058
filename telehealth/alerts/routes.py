"""Safety alerts for the care team."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint

from telehealth.accounts.models import Role
from telehealth.alerts import service
from telehealth.alerts.schemas import AcknowledgeIn, AlertOut, AlertPage, AlertQuery
from telehealth.audit.context import audit_resource, audited
from telehealth.auth.roles import authenticated, me
from telehealth.extensions import db
from telehealth.monitoring.service import raise_overdue_checkpoint_alerts

blp = Blueprint("alerts", __name__, url_prefix="/api/v1", description="Safety alerts")


@blp.get("/alerts")
@audited("alert.list", "alert")
@authenticated(Role.CLINICIAN, Role.ADMIN)
@blp.arguments(AlertQuery(), location="query")
@blp.response(200, AlertPage)
@blp.alt_response(404, description="`patient_id` names no patient the caller may see.")
def list_alerts(query: dict[str, Any]) -> Any:
    """Alerts to review, most urgent first (`priority` 1: suicidal ideation; then adverse
    event, overdue checkpoint, vital sign, severe score, deterioration, missed check-ins), then
    oldest first. A clinician sees the alerts of their care-team patients; an admin every
    patient's (oversight; acknowledging stays with the care team). Filters: `status` (`open`
    by default, `acknowledged`, `all`), `patient_id` (404 for a patient the caller may not
    see), `kind`. Each alert names its `source` (`checkin`, `monitoring_note` or `session`,
    readable at `/checkins/{id}`, `/notes/{id}`, `/sessions/{id}`) and, where the trigger
    came from a session, `session_id`. Overdue monitoring checkpoints of recent sessions are
    raised as alerts first, so the list never misses one."""
    audit_resource(patient_id=query.get("patient_id"))
    raise_overdue_checkpoint_alerts(db.session, me())
    return service.list_alerts(db.session, me(), **query)


@blp.post("/alerts/<uuid:alert_id>/acknowledge")
@audited("alert.acknowledge", "alert", resource_arg="alert_id")
@authenticated(Role.CLINICIAN)
@blp.arguments(AcknowledgeIn())
@blp.response(200, AlertOut)
@blp.alt_response(409, description="The alert was already acknowledged.")
def acknowledge_alert(body: dict[str, Any], alert_id: uuid.UUID) -> Any:
    """Acknowledge an alert (who, when, an optional note); a second time is 409."""
    alert = service.acknowledge(db.session, me(), alert_id, body.get("note"))
    audit_resource(patient_id=alert.patient_id)
    return alert
