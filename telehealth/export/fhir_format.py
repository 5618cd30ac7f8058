"""The record as a FHIR Bundle (type collection), each resource validated by the
`fhir.resources` R4B models (FHIR 4.3, the R4 line) before it is written.

Entries are identified by `urn:uuid:` full URLs and refer to each other the same way, so the
bundle is self-contained. Codes follow the clinical reference's mapping table.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy.orm import Session

from telehealth.accounts.models import User
from telehealth.alerts.models import AlertStatus, SafetyAlert
from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.export import record
from telehealth.monitoring.models import MonitoringNote
from telehealth.patients.models import Patient
from telehealth.sessions.models import SessionStatus, TreatmentSession

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#: R4's Encounter has no element for why it ended as it did: this service's own extension
#: carries the reason a session was completed without everything the rules ask for.
COMPLETION_REASON = "urn:telehealth:fhir:extension:session-completion-reason"

#: Questionnaire totals with a LOINC code (PCL-5 has none in the mapping: response only).
TOTAL_CODES = {
    "PHQ-9": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score", "44249-1"),
    "GAD-7": ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score", "69737-5"),
}
VITAL_CODES = {
    "heart_rate": ("8867-4", "Heart rate", "/min", "/min"),
    "spo2": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%"),
    "respiratory_rate": ("9279-1", "Respiratory rate", "/min", "/min"),
    "temperature": ("8310-5", "Body temperature", "Cel", "Cel"),
}
APPOINTMENT_STATUS = {
    SessionStatus.SCHEDULED: "booked",
    SessionStatus.IN_PROGRESS: "arrived",
    SessionStatus.COMPLETED: "fulfilled",
    SessionStatus.CANCELLED: "cancelled",
    SessionStatus.NO_SHOW: "noshow",
}


def ref(resource_id: uuid.UUID | str, resource_type: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource_id}", "type": resource_type}


def derived_id(source: uuid.UUID, name: str) -> uuid.UUID:
    return uuid.uuid5(source, name)


def when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"system": system, "code": code}
    if display:
        concept["display"] = display
    return {"coding": [concept], **({"text": display} if display else {})}


def patient_resource(patient: Patient) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": str(patient.id),
        "active": patient.is_active,
        "name": [{"text": patient.name}],
        "telecom": [{"system": "email", "value": patient.email}],
        "birthDate": patient.date_of_birth.isoformat(),
        "contact": [
            {
                "relationship": [{"text": "emergency contact"}],
                "name": {"text": patient.emergency_contact_name},
                "telecom": [{"system": "phone", "value": patient.emergency_contact_phone}],
            }
        ],
    }


def practitioner_resource(clinician: User) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": str(clinician.id),
        "active": clinician.is_active,
        "name": [{"text": clinician.name}],
        "telecom": [{"system": "email", "value": clinician.email}],
    }


def care_team_resource(patient: Patient) -> dict[str, Any]:
    return {
        "resourceType": "CareTeam",
        "id": str(derived_id(patient.id, "care-team")),
        "status": "active",
        "subject": ref(patient.id, "Patient"),
        "participant": [
            {
                "member": ref(member.clinician_id, "Practitioner"),
                "period": {"start": when(member.added_at)},
            }
            for member in patient.care_team
        ],
    }


def appointment_resource(treatment: TreatmentSession) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(treatment.id),
        "status": APPOINTMENT_STATUS[treatment.status],
        "serviceType": [coding(SNOMED, "448337001", "Telehealth visit")],
        "start": when(treatment.scheduled_start),
        "end": when(treatment.scheduled_end),
        "minutesDuration": treatment.duration_minutes,
        "participant": [
            {"actor": ref(treatment.patient_id, "Patient"), "status": "accepted"},
            {"actor": ref(treatment.clinician_id, "Practitioner"), "status": "accepted"},
        ],
    }
    cancelled = next(
        (t for t in treatment.transitions if t.to_status is SessionStatus.CANCELLED), None
    )
    if cancelled is not None and cancelled.reason:
        resource["cancelationReason"] = {"text": cancelled.reason}
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
    extension = (
        [{"url": COMPLETION_REASON, "valueString": treatment.completion_reason}]
        if treatment.completion_reason
        else []
    )
    return {
        "resourceType": "Encounter",
        "id": str(derived_id(treatment.id, "encounter")),
        **({"extension": extension} if extension else {}),
        "status": "finished" if treatment.status is SessionStatus.COMPLETED else "in-progress",
        "class": {"system": ACT_CODE, "code": "VR", "display": "virtual"},
        "subject": ref(treatment.patient_id, "Patient"),
        "appointment": [ref(treatment.id, "Appointment")],
        "participant": [{"individual": ref(treatment.clinician_id, "Practitioner")}],
        "period": period,
    }


def _observation(
    observation_id: uuid.UUID, note: MonitoringNote, code: dict[str, Any], **value: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": str(observation_id),
        "status": "final",
        "category": [coding(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")],
        "code": code,
        "subject": ref(note.patient_id, "Patient"),
        "effectiveDateTime": when(note.observed_at),
        "performer": [ref(note.author_id, "Practitioner")],
        **value,
    }


def _quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def vital_sign_resources(note: MonitoringNote) -> Iterator[dict[str, Any]]:
    if note.systolic is not None or note.diastolic is not None:
        components = [
            {
                "code": coding(LOINC, code, display),
                "valueQuantity": _quantity(value, "mmHg", "mm[Hg]"),
            }
            for code, display, value in (
                ("8480-6", "Systolic blood pressure", note.systolic),
                ("8462-4", "Diastolic blood pressure", note.diastolic),
            )
            if value is not None
        ]
        yield _observation(
            derived_id(note.id, "blood-pressure"),
            note,
            coding(LOINC, "85354-9", "Blood pressure panel with all children optional"),
            component=components,
        )
    for name, (code, display, unit, ucum) in VITAL_CODES.items():
        value = getattr(note, name)
        if value is not None:
            yield _observation(
                derived_id(note.id, name),
                note,
                coding(LOINC, code, display),
                valueQuantity=_quantity(value, unit, ucum),
            )


def document_resources(note: MonitoringNote) -> Iterator[dict[str, Any]]:
    """The note, and each amendment as a document that `appends` to it."""

    def document(
        doc_id: uuid.UUID, author: uuid.UUID, created: datetime, text: str, **extra: Any
    ) -> dict[str, Any]:
        return {
            "resourceType": "DocumentReference",
            "id": str(doc_id),
            "status": "current",
            "subject": ref(note.patient_id, "Patient"),
            "date": when(created),
            "author": [ref(author, "Practitioner")],
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "data": base64.b64encode(text.encode()).decode(),
                    }
                }
            ],
            **extra,
        }

    label = f"Monitoring note ({note.checkpoint.value})" if note.checkpoint else "Monitoring note"
    yield document(
        note.id,
        note.author_id,
        note.created_at,
        note.text,
        docStatus="final" if note.signed_at else "preliminary",
        description=label,
        context={"related": [ref(note.session_id, "Appointment")]},
    )
    for amendment in note.amendments:
        yield document(
            amendment.id,
            amendment.author_id,
            amendment.created_at,
            f"{amendment.text}\n\nReason: {amendment.reason}",
            description="Amendment",
            relatesTo=[{"code": "appends", "target": ref(note.id, "DocumentReference")}],
        )


def adverse_event_resource(note: MonitoringNote) -> dict[str, Any] | None:
    event = note.adverse_event
    if event is None:
        return None
    seriousness = "serious" if event.serious else "non-serious"
    return {
        "resourceType": "AdverseEvent",
        "id": str(event.id),
        "actuality": "actual",
        "event": {"text": event.description},
        "subject": ref(note.patient_id, "Patient"),
        "date": when(note.observed_at),
        "recorder": ref(note.author_id, "Practitioner"),
        "seriousness": coding(
            "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness",
            seriousness,
            seriousness.replace("-", " ").capitalize(),
        ),
        "severity": coding(
            "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
            event.severity.value,
            event.severity.value.capitalize(),
        ),
    }


def questionnaire_resources(
    checkin: MoodCheckIn, score: InstrumentScore
) -> Iterator[dict[str, Any]]:
    yield {
        "resourceType": "QuestionnaireResponse",
        "id": str(score.id),
        "status": "completed",
        "subject": ref(checkin.patient_id, "Patient"),
        "authored": when(score.recorded_at),
        "author": ref(checkin.patient_id, "Patient"),
        "item": [
            {"linkId": str(index), "answer": [{"valueInteger": answer}]}
            for index, answer in enumerate(score.answers, start=1)
        ],
        "extension": [
            {
                "url": "urn:telehealth:instrument",
                "valueString": f"{score.instrument} {score.version}",
            }
        ],
    }
    if score.instrument in TOTAL_CODES:
        code, display, panel = TOTAL_CODES[score.instrument]
        yield {
            "resourceType": "Observation",
            "id": str(derived_id(score.id, "total")),
            "status": "final",
            "category": [coding(OBSERVATION_CATEGORY, "survey", "Survey")],
            "code": coding(LOINC, code, display),
            "subject": ref(checkin.patient_id, "Patient"),
            "effectiveDateTime": when(score.recorded_at),
            "valueInteger": score.total,
            "derivedFrom": [ref(score.id, "QuestionnaireResponse")],
            "note": [{"text": f"Panel LOINC {panel}; band: {score.band}"}],
        }


def flag_resource(alert: SafetyAlert) -> dict[str, Any]:
    """The alert as a Flag; what FHIR's Flag has no element for (its priority, the session it
    came from, the overdue checkpoint) in extensions, as the JSON export shows them."""
    period = {"start": when(alert.created_at)}
    if alert.acknowledged_at:
        period["end"] = when(alert.acknowledged_at)
    extensions: list[dict[str, Any]] = [
        {"url": "urn:telehealth:alert-priority", "valueInteger": alert.priority}
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
    return {
        "resourceType": "Flag",
        "id": str(alert.id),
        "extension": extensions,
        "status": "active" if alert.status is AlertStatus.OPEN else "inactive",
        "code": {"text": f"{alert.kind.value}: {alert.reason}"},
        "subject": ref(alert.patient_id, "Patient"),
        "period": period,
    }


def _resources(session: Session, patient: Patient) -> Iterator[dict[str, Any]]:
    yield patient_resource(patient)
    for clinician in record.practitioners(session, patient):
        yield practitioner_resource(clinician)
    yield care_team_resource(patient)
    for treatment, notes in record.sessions_with_notes(session, patient):
        yield appointment_resource(treatment)
        encounter = encounter_resource(treatment)
        if encounter is not None:
            yield encounter
        for note in notes:
            yield from document_resources(note)
            yield from vital_sign_resources(note)
            adverse_event = adverse_event_resource(note)
            if adverse_event is not None:
                yield adverse_event
    for checkin in record.checkins(session, patient):
        for score in checkin.scores:
            yield from questionnaire_resources(checkin, score)
    for alert in record.alerts(session, patient):
        yield flag_resource(alert)


def stream(session: Session, patient: Patient, exported_at: datetime) -> Iterator[str]:
    head = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": exported_at.isoformat(),
        "entry": [],
    }
    yield json.dumps(head)[:-2]
    for index, resource in enumerate(_resources(session, patient)):
        # Validated by the FHIR models, then written as built (re-encoding the model would
        # double the cost and change nothing).
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        entry = {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
        yield ("," if index else "") + json.dumps(entry, separators=(",", ":"))
    yield "]}"
