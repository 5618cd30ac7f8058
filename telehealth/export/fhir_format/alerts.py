"""A safety alert, as a Flag."""

from __future__ import annotations

from typing import Any

from telehealth.alerts.models import AlertSource, AlertStatus, SafetyAlert
from telehealth.export.fhir_format.codes import (
    People,
    code_system,
    coding,
    person,
    ref,
    when,
)

#: The resource an alert's source is in the bundle.
SOURCE_TYPES = {
    AlertSource.CHECKIN: "Observation",
    AlertSource.MONITORING_NOTE: "DocumentReference",
    AlertSource.SESSION: "Appointment",
    AlertSource.PATIENT: "Patient",
}


def flag_resource(alert: SafetyAlert, people: People) -> dict[str, Any]:
    """The alert as a Flag; what FHIR's Flag has no element for (its priority, source, session,
    overdue checkpoint, escalation, who acknowledged it and their note) in extensions, as the
    JSON export shows them."""
    period = {"start": when(alert.created_at)}
    if alert.acknowledged_at:
        period["end"] = when(alert.acknowledged_at)
    source = AlertSource(alert.source_type)
    extensions: list[dict[str, Any]] = [
        {"url": "urn:telehealth:alert-priority", "valueInteger": alert.priority},
        {
            "url": "urn:telehealth:alert-source",
            "valueReference": ref(alert.source_id, SOURCE_TYPES[source]),
        },
        {"url": "urn:telehealth:alert-escalation-level", "valueInteger": alert.escalation_level},
    ]
    if alert.session_id is not None:
        extensions.append(
            {
                "url": "urn:telehealth:alert-session",
                "valueReference": ref(alert.session_id, "Appointment"),
            }
        )
    if alert.checkpoint is not None:
        extensions.append(
            {"url": "urn:telehealth:alert-checkpoint", "valueString": alert.checkpoint.value}
        )
    if alert.escalated_at is not None:
        extensions.append(
            {"url": "urn:telehealth:alert-escalated-at", "valueDateTime": when(alert.escalated_at)}
        )
    if alert.acknowledged_by_id is not None:
        extensions.append(
            {
                "url": "urn:telehealth:alert-acknowledged-by",
                "valueReference": person(alert.acknowledged_by_id, people),
            }
        )
    if alert.note:
        extensions.append({"url": "urn:telehealth:alert-note", "valueString": alert.note})
    code = coding(code_system("alert-kind"), alert.kind.value)
    code["text"] = f"{alert.kind.value}: {alert.reason}"
    return {
        "resourceType": "Flag",
        "id": str(alert.id),
        "extension": extensions,
        "status": "active" if alert.status is AlertStatus.OPEN else "inactive",
        "code": code,
        "subject": ref(alert.patient_id, "Patient"),
        "period": period,
    }
