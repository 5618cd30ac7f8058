"""The record as a FHIR Bundle (type collection), each resource validated by the
`fhir.resources` R4B models (FHIR 4.3, the R4 line) before it is written.

Entries are identified by `urn:uuid:` full URLs and refer to each other the same way, so the
bundle is self-contained. Codes follow the clinical reference's mapping table; LOINC where a code
exists, else the service's own code systems (`urn:telehealth:fhir:CodeSystem:<name>`), and the
service's own extensions where FHIR R4 has no element. Everything the JSON export says is here
too (docs/export.md has the field by field table). Never a dose amount.
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
from telehealth.alerts.models import AlertSource, AlertStatus, SafetyAlert
from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.export import json_format, record
from telehealth.monitoring.models import MonitoringNote
from telehealth.patients.models import Patient
from telehealth.sessions.models import SessionStatus, SessionTransition, TreatmentSession

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#: FHIR's own extension for an IANA time zone name (valueCode).
TIMEZONE = "http://hl7.org/fhir/StructureDefinition/timezone"
#: The service's own names: stable, documented in docs/export.md, never an address to fetch.
SERVICE = "urn:telehealth:fhir"
#: Who a reference names when the person has no entry in the bundle (an admin, say): the
#: service's user id, as the JSON export gives it, and nothing more about them.
USER_IDS = "urn:telehealth:user"


def code_system(name: str) -> str:
    return f"{SERVICE}:CodeSystem:{name}"


def extension(name: str) -> str:
    return f"{SERVICE}:extension:{name}"


#: The service's codes for what LOINC has no code for (a 0-10 mood rating, MOAA/S sedation...).
OWN = code_system("observation")
#: R4's Encounter has no element for why it ended as it did: this service's own extension
#: carries the reason a session was completed without everything the rules ask for.
COMPLETION_REASON = extension("session-completion-reason")
#: A sleep duration in hours (LOINC 93832-4 "Sleep duration").
SLEEP_DURATION = ("93832-4", "Sleep duration")

#: Questionnaire totals with a LOINC code: (total, display, panel). PCL-5 has no LOINC code in
#: the clinical reference's table, so its total carries the service's own code.
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
#: The resource an alert's source is in the bundle.
SOURCE_TYPES = {
    AlertSource.CHECKIN: "Observation",
    AlertSource.MONITORING_NOTE: "DocumentReference",
    AlertSource.SESSION: "Appointment",
    AlertSource.PATIENT: "Patient",
}

#: Who is an entry of the bundle, by user id: the patient and the practitioners.
People = dict[uuid.UUID, str]


def ref(resource_id: uuid.UUID | str, resource_type: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource_id}", "type": resource_type}


def person(user_id: uuid.UUID, people: People) -> dict[str, Any]:
    """A reference to the user's entry, or, for someone without one, their id alone."""
    if user_id in people:
        return ref(user_id, people[user_id])
    return {"identifier": {"system": USER_IDS, "value": str(user_id)}}


def derived_id(source: uuid.UUID, name: str) -> uuid.UUID:
    return uuid.uuid5(source, name)


def when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"system": system, "code": code}
    if display:
        concept["display"] = display
    return {"coding": [concept], **({"text": display} if display else {})}


def last_updated(moment: datetime) -> dict[str, Any]:
    return {"meta": {"lastUpdated": when(moment)}}


def patient_resource(patient: Patient) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": str(patient.id),
        **last_updated(patient.updated_at),
        "extension": [
            {"url": TIMEZONE, "valueCode": patient.timezone},
            {"url": extension("created-at"), "valueDateTime": when(patient.created_at)},
        ],
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


def _observation(
    observation_id: uuid.UUID,
    note: MonitoringNote,
    code: dict[str, Any],
    category: str = "vital-signs",
    **value: Any,
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": str(observation_id),
        "status": "final",
        "category": [coding(OBSERVATION_CATEGORY, category, category.replace("-", " ").title())],
        "code": code,
        "subject": ref(note.patient_id, "Patient"),
        "effectiveDateTime": when(note.observed_at),
        "performer": [ref(note.author_id, "Practitioner")],
        "derivedFrom": [ref(note.id, "DocumentReference")],
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


def observed_resources(note: MonitoringNote) -> Iterator[dict[str, Any]]:
    """Sedation, dissociation and side effects: no LOINC codes, so the service's own."""
    if note.sedation is not None:
        yield _observation(
            derived_id(note.id, "sedation"),
            note,
            coding(OWN, "sedation-moaas", "Sedation, MOAA/S (0 no response to pain, 5 alert)"),
            "exam",
            valueInteger=note.sedation,
        )
    if note.dissociation is not None:
        yield _observation(
            derived_id(note.id, "dissociation"),
            note,
            coding(OWN, "dissociation", "Dissociation"),
            "exam",
            valueCodeableConcept=coding(code_system("dissociation"), note.dissociation.value),
        )
    for side_effect in note.side_effects:
        yield _observation(
            derived_id(note.id, f"side-effect:{side_effect}"),
            note,
            coding(OWN, "side-effect", "Side effect"),
            "exam",
            valueCodeableConcept=coding(code_system("side-effect"), side_effect),
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
    context: dict[str, Any] = {
        "period": {"start": when(note.observed_at)},
        "related": [ref(note.session_id, "Appointment")],
    }
    if note.checkpoint is not None:
        context["event"] = [coding(code_system("checkpoint"), note.checkpoint.value)]
    signed = (
        {"extension": [{"url": extension("signed-at"), "valueDateTime": when(note.signed_at)}]}
        if note.signed_at
        else {}
    )
    yield document(
        note.id,
        note.author_id,
        note.created_at,
        note.text,
        **signed,
        docStatus="final" if note.signed_at else "preliminary",
        description=label,
        context=context,
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
    extensions: list[dict[str, Any]] = [
        {"url": extension("adverse-event-emergency-care"), "valueBoolean": event.emergency_care}
    ]
    if event.action_taken:
        extensions.append(
            {"url": extension("adverse-event-action-taken"), "valueString": event.action_taken}
        )
    return {
        "resourceType": "AdverseEvent",
        "id": str(event.id),
        "extension": extensions,
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
        "referenceDocument": [ref(note.id, "DocumentReference")],
    }


def note_resources(note: MonitoringNote) -> Iterator[dict[str, Any]]:
    yield from document_resources(note)
    yield from vital_sign_resources(note)
    yield from observed_resources(note)
    adverse_event = adverse_event_resource(note)
    if adverse_event is not None:
        yield adverse_event


def checkin_resource(checkin: MoodCheckIn) -> dict[str, Any]:
    """The check-in itself: mood, anxiety, sleep and context as components, the patient's own
    words as its note, the questionnaires answered with it as what it is derived from."""
    components: list[dict[str, Any]] = [
        {"code": coding(OWN, "mood", "Mood (0 worst, 10 best)"), "valueInteger": checkin.mood}
    ]
    if checkin.anxiety is not None:
        components.append(
            {
                "code": coding(OWN, "anxiety", "Anxiety (0 none, 10 worst)"),
                "valueInteger": checkin.anxiety,
            }
        )
    if checkin.sleep_hours is not None:
        components.append(
            {
                "code": coding(LOINC, *SLEEP_DURATION),
                "valueQuantity": _quantity(checkin.sleep_hours, "h", "h"),
            }
        )
    components.append(
        {
            "code": coding(OWN, "checkin-context", "When the check-in was made"),
            "valueCodeableConcept": coding(code_system("checkin-context"), checkin.context.value),
        }
    )
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(checkin.id),
        **last_updated(checkin.updated_at),
        "status": "final",
        "category": [coding(OBSERVATION_CATEGORY, "survey", "Survey")],
        "code": coding(OWN, "daily-checkin", "Mood check-in"),
        "subject": ref(checkin.patient_id, "Patient"),
        "effectiveDateTime": when(checkin.recorded_at),
        "issued": when(checkin.received_at),
        "performer": [ref(checkin.patient_id, "Patient")],
        "component": components,
    }
    if checkin.session_id is not None:
        resource["extension"] = [
            {
                "url": extension("checkin-session"),
                "valueReference": ref(checkin.session_id, "Appointment"),
            }
        ]
    if checkin.note:
        resource["note"] = [{"text": checkin.note}]
    if checkin.scores:
        resource["derivedFrom"] = [
            ref(score.id, "QuestionnaireResponse") for score in checkin.scores
        ]
    return resource


def _result_component(name: str, value: Any) -> dict[str, Any]:
    """One of a score's further results (PCL-5's `probable_ptsd`...), under its own name."""
    kind = (
        "Boolean" if isinstance(value, bool) else "Integer" if isinstance(value, int) else "String"
    )
    return {
        "code": coding(OWN, name.replace("_", "-"), name.replace("_", " ").capitalize()),
        f"value{kind}": value,
    }


def questionnaire_resources(
    checkin: MoodCheckIn, score: InstrumentScore
) -> Iterator[dict[str, Any]]:
    yield {
        "resourceType": "QuestionnaireResponse",
        "id": str(score.id),
        "extension": [
            {
                "url": "urn:telehealth:instrument",
                "valueString": f"{score.instrument} {score.version}",
            }
        ],
        "partOf": [ref(checkin.id, "Observation")],
        "status": "completed",
        "subject": ref(checkin.patient_id, "Patient"),
        "authored": when(score.recorded_at),
        "author": ref(checkin.patient_id, "Patient"),
        "item": [
            {"linkId": str(index), "answer": [{"valueInteger": answer}]}
            for index, answer in enumerate(score.answers, start=1)
        ],
    }
    total: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(derived_id(score.id, "total")),
        "status": "final",
        "category": [coding(OBSERVATION_CATEGORY, "survey", "Survey")],
        "subject": ref(checkin.patient_id, "Patient"),
        "effectiveDateTime": when(score.recorded_at),
        "valueInteger": score.total,
        "derivedFrom": [ref(score.id, "QuestionnaireResponse")],
    }
    if score.instrument in TOTAL_CODES:
        code, display, panel = TOTAL_CODES[score.instrument]
        total["code"] = coding(LOINC, code, display)
        total["note"] = [{"text": f"Panel LOINC {panel}; band: {score.band}"}]
    else:
        slug = score.instrument.lower()
        total["code"] = coding(OWN, f"{slug}-total", f"{score.instrument} total score")
    if score.band is not None:
        total["interpretation"] = [coding(code_system("score-band"), score.band)]
    if score.extra:
        total["component"] = [_result_component(k, v) for k, v in score.extra.items()]
    yield total


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


def _resources(session: Session, patient: Patient) -> Iterator[dict[str, Any]]:
    yield patient_resource(patient)
    people: People = {patient.id: "Patient"}
    for clinician in record.practitioners(session, patient):
        people[clinician.id] = "Practitioner"
        yield practitioner_resource(clinician)
    yield care_team_resource(patient)
    for treatment, notes in record.sessions_with_notes(session, patient):
        yield from session_resources(treatment, people)
        for note in notes:
            yield from note_resources(note)
    for checkin in record.checkins(session, patient):
        yield checkin_resource(checkin)
        for score in checkin.scores:
            yield from questionnaire_resources(checkin, score)
    for alert in record.alerts(session, patient):
        yield flag_resource(alert, people)


def stream(session: Session, patient: Patient, exported_at: datetime) -> Iterator[str]:
    head = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        # The JSON export this bundle says the same as: its format and version.
        "meta": {
            "tag": [
                {
                    "system": code_system("export-format"),
                    "code": json_format.FORMAT,
                    "version": str(json_format.VERSION),
                }
            ]
        },
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
