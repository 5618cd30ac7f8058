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
@authenticated(Role.CLINICIAN)
@blp.arguments(AlertQuery(), location="query")
@blp.response(200, AlertPage)
def list_alerts(query: dict[str, Any]) -> Any:
    """Alerts of the clinician's care-team patients (default: open), most urgent kind first
    (suicidal ideation), then oldest first. Overdue monitoring checkpoints of recent
    sessions are raised as alerts first, since no background worker watches the clock."""
    raise_overdue_checkpoint_alerts(db.session, me())
    return service.list_alerts(db.session, me(), **query)


@blp.post("/alerts/<uuid:alert_id>/acknowledge")
@audited("alert.acknowledge", "alert", resource_arg="alert_id")
@authenticated(Role.CLINICIAN)
@blp.arguments(AcknowledgeIn())
@blp.response(200, AlertOut)
def acknowledge_alert(body: dict[str, Any], alert_id: uuid.UUID) -> Any:
    """Acknowledge an alert (who, when, an optional note); a second time is 409."""
    alert = service.acknowledge(db.session, me(), alert_id, body.get("note"))
    audit_resource(patient_id=alert.patient_id)
    return alert
