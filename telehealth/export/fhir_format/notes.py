"""A monitoring note: the note and its amendments as documents, the vital signs and what was
observed (sedation, dissociation, side effects) as observations, and an adverse event."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from telehealth.export.fhir_format.codes import (
    LOINC,
    OBSERVATION_CATEGORY,
    OWN,
    code_system,
    coding,
    derived_id,
    extension,
    quantity,
    ref,
    when,
)
from telehealth.monitoring.models import MonitoringNote

VITAL_CODES = {
    "heart_rate": ("8867-4", "Heart rate", "/min", "/min"),
    "spo2": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%"),
    "respiratory_rate": ("9279-1", "Respiratory rate", "/min", "/min"),
    "temperature": ("8310-5", "Body temperature", "Cel", "Cel"),
}


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


def vital_sign_resources(note: MonitoringNote) -> Iterator[dict[str, Any]]:
    if note.systolic is not None or note.diastolic is not None:
        components = [
            {
                "code": coding(LOINC, code, display),
                "valueQuantity": quantity(value, "mmHg", "mm[Hg]"),
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
                valueQuantity=quantity(value, unit, ucum),
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
