"""Who the record is about and who cares for them: the patient, the practitioners and the
care team."""

from __future__ import annotations

from typing import Any

from telehealth.accounts.models import User
from telehealth.export.fhir_format.codes import (
    TIMEZONE,
    derived_id,
    extension,
    last_updated,
    ref,
    when,
)
from telehealth.patients.models import Patient


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
