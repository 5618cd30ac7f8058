"""A treatment session: the appointment, the treatment monitor, each move of its status, the
encounter once it started, and the medication taken."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from telehealth.export.fhir_format.codes import (
    ACT_CODE,
    SNOMED,
    TIMEZONE,
    People,
    code_system,
    coding,
    derived_id,
    extension,
    last_updated,
    person,
    ref,
    when,
)
from telehealth.sessions.models import SessionStatus, SessionTransition, TreatmentSession

#: R4's Encounter has no element for why it ended as it did: this service's own extension
#: carries the reason a session was completed without everything the rules ask for.
COMPLETION_REASON = extension("session-completion-reason")
APPOINTMENT_STATUS = {
    SessionStatus.SCHEDULED: "booked",
    SessionStatus.IN_PROGRESS: "arrived",
    SessionStatus.COMPLETED: "fulfilled",
    SessionStatus.CANCELLED: "cancelled",
    SessionStatus.NO_SHOW: "noshow",
}


def monitor_id(treatment: TreatmentSession) -> uuid.UUID:
    return derived_id(treatment.id, "treatment-monitor")


def monitor_resource(treatment: TreatmentSession) -> dict[str, Any]:
    """The adult who stays with the patient through the session."""
    return {
        "resourceType": "RelatedPerson",
        "id": str(monitor_id(treatment)),
        "patient": ref(treatment.patient_id, "Patient"),
        "relationship": [{"text": "treatment monitor"}],
        "name": [{"text": treatment.treatment_monitor_name}],
        "telecom": [{"system": "phone", "value": treatment.treatment_monitor_phone}],
    }


def appointment_resource(treatment: TreatmentSession) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(treatment.id),
        **last_updated(treatment.updated_at),
        "extension": [
            {"url": TIMEZONE, "valueCode": treatment.patient.timezone},
            {
                "url": extension("session-modality"),
                "valueCoding": {
                    "system": code_system("modality"),
                    "code": treatment.modality.value,
                },
            },
        ],
        "status": APPOINTMENT_STATUS[treatment.status],
        "serviceType": [coding(SNOMED, "448337001", "Telehealth visit")],
        "start": when(treatment.scheduled_start),
        "end": when(treatment.scheduled_end),
        "minutesDuration": treatment.duration_minutes,
        "created": when(treatment.created_at),
        "participant": [
            {"actor": ref(treatment.patient_id, "Patient"), "status": "accepted"},
            {"actor": ref(treatment.clinician_id, "Practitioner"), "status": "accepted"},
            {
                "type": [{"text": "treatment monitor"}],
                "actor": ref(monitor_id(treatment), "RelatedPerson"),
                "status": "accepted",
            },
        ],
    }
    if treatment.notes:
        resource["comment"] = treatment.notes
    cancelled = next(
        (t for t in treatment.transitions if t.to_status is SessionStatus.CANCELLED), None
    )
    if cancelled is not None and cancelled.reason:
        resource["cancelationReason"] = {"text": cancelled.reason}
    return resource


def transition_resource(
    treatment: TreatmentSession, transition: SessionTransition, people: People
) -> dict[str, Any]:
    """One move of the session (started, cancelled...): who, when, from what, and why."""
    resource: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": str(transition.id),
        "extension": [
            {"url": extension("session-status-from"), "valueCode": transition.from_status.value}
        ],
        "target": [ref(treatment.id, "Appointment")],
        "occurredDateTime": when(transition.occurred_at),
        "recorded": when(transition.occurred_at),
        "activity": coding(code_system("session-status"), transition.to_status.value),
        "agent": [{"who": person(transition.actor_id, people)}],
    }
    if transition.reason:
        resource["reason"] = [{"text": transition.reason}]
    return resource


def encounter_resource(treatment: TreatmentSession) -> dict[str, Any] | None:
    """The session as it happened: only sessions that were started."""
    moves = {t.to_status: t.occurred_at for t in treatment.transitions}
    started = moves.get(SessionStatus.IN_PROGRESS)
    if started is None:
        return None
    period = {"start": when(started)}
    if SessionStatus.COMPLETED in moves:
        period["end"] = when(moves[SessionStatus.COMPLETED])
    extensions = (
        [{"url": COMPLETION_REASON, "valueString": treatment.completion_reason}]
        if treatment.completion_reason
        else []
    )
    return {
        "resourceType": "Encounter",
        "id": str(derived_id(treatment.id, "encounter")),
        **({"extension": extensions} if extensions else {}),
        "status": "finished" if treatment.status is SessionStatus.COMPLETED else "in-progress",
        "class": {"system": ACT_CODE, "code": "VR", "display": "virtual"},
        "subject": ref(treatment.patient_id, "Patient"),
        "appointment": [ref(treatment.id, "Appointment")],
        "participant": [{"individual": ref(treatment.clinician_id, "Practitioner")}],
        "period": period,
    }


def medication_resource(treatment: TreatmentSession, encounter_id: str) -> dict[str, Any] | None:
    """That and when the patient took the medication prescribed for the session: no medicine
    named, no dose, as the service stores neither."""
    if treatment.medication_taken_at is None:
        return None
    return {
        "resourceType": "MedicationAdministration",
        "id": str(derived_id(treatment.id, "medication-taken")),
        "status": "completed",
        "medicationCodeableConcept": {"text": "The medication prescribed for the session"},
        "subject": ref(treatment.patient_id, "Patient"),
        "context": ref(encounter_id, "Encounter"),
        "effectiveDateTime": when(treatment.medication_taken_at),
    }


def session_resources(treatment: TreatmentSession, people: People) -> Iterator[dict[str, Any]]:
    yield appointment_resource(treatment)
    yield monitor_resource(treatment)
    for transition in treatment.transitions:
        yield transition_resource(treatment, transition, people)
    encounter = encounter_resource(treatment)
    if encounter is not None:
        yield encounter
        medication = medication_resource(treatment, encounter["id"])
        if medication is not None:
            yield medication
