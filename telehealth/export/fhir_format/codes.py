"""What every resource of the bundle shares: code systems, the service's own code system
and extension names, references between entries, and the small builders (a coding, a
quantity, a timestamp)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

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


def quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}
