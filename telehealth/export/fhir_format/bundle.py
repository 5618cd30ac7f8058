"""The bundle: every resource of the record in order, each validated by the FHIR models,
written as one stream."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy.orm import Session

from telehealth.export import json_format, record
from telehealth.export.fhir_format.alerts import flag_resource
from telehealth.export.fhir_format.checkins import checkin_resource, questionnaire_resources
from telehealth.export.fhir_format.codes import People, code_system
from telehealth.export.fhir_format.notes import note_resources
from telehealth.export.fhir_format.people import (
    care_team_resource,
    patient_resource,
    practitioner_resource,
)
from telehealth.export.fhir_format.sessions import session_resources
from telehealth.patients.models import Patient


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
