"""Where each field of the JSON export lives in the FHIR Bundle of the same record.

`leaves` walks a JSON export down to its facts: each a path pattern (`sessions[].notes`,
`checkins[].scores{}.total`), its value, and the items it sits in (its identity: which session,
which note, which instrument). `MAPPING` says, for each pattern, where FHIR keeps that fact and
reads it back from the bundle in the JSON's own terms, so a test can compare the two. A pattern
with no entry here is a JSON field the FHIR export forgets: the parity test names it.
docs/export.md shows the same table to readers.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from telehealth.export.fhir_format.codes import (
    LOINC,
    OWN,
    TIMEZONE,
    code_system,
    extension,
)

Resource = dict[str, Any]
#: The items a fact sits in, by name (`session`, `note`...), their index (`transition#`) and,
#: inside a map such as `scores`, its key (`instrument`).
Scope = dict[str, Any]

#: Lists of items in the JSON export, by key: the name an item goes by in a scope.
LISTS = {
    "care_team": "member",
    "sessions": "session",
    "transitions": "transition",
    "monitoring_notes": "note",
    "amendments": "amendment",
    "checkins": "checkin",
    "alerts": "alert",
}
#: Objects keyed by a name that varies (an instrument code), by key: what the name is.
MAPS = {"scores": "instrument"}

APPOINTMENT_STATUS = {
    "booked": "scheduled",
    "arrived": "in_progress",
    "fulfilled": "completed",
    "cancelled": "cancelled",
    "noshow": "no_show",
}
SOURCE_TYPES = {
    "Observation": "checkin",
    "DocumentReference": "monitoring_note",
    "Appointment": "session",
    "Patient": "patient",
}
INSTRUMENT = "urn:telehealth:instrument"


def leaves(
    node: Any, path: str = "", scope: Scope | None = None
) -> Iterator[tuple[str, Any, Scope]]:
    """Every fact of a JSON export: (pattern, value, scope). A list of plain values (side
    effects) is one fact; a list of items is walked item by item."""
    scope = scope or {}
    if not isinstance(node, dict):
        yield path, node, scope
        return
    for key, value in node.items():
        at = f"{path}.{key}" if path else key
        if key in MAPS and isinstance(value, dict):
            for name, item in value.items():
                yield from leaves(item, f"{at}{{}}", {**scope, MAPS[key]: name})
        elif key in LISTS and isinstance(value, list):
            name = LISTS[key]
            for index, item in enumerate(value):
                yield from leaves(item, f"{at}[]", {**scope, name: item, f"{name}#": index})
        else:
            yield from leaves(value, at, scope)


# --- reading the bundle ---------------------------------------------------------------------


class Fhir:
    """A bundle's resources, by type and id."""

    def __init__(self, bundle: dict[str, Any]) -> None:
        self.bundle = bundle
        self.resources: list[Resource] = [entry["resource"] for entry in bundle["entry"]]
        self.index = {(r["resourceType"], r["id"]): r for r in self.resources}

    def get(self, resource_type: str, resource_id: str) -> Resource:
        return self.index[(resource_type, resource_id)]

    def every(self, resource_type: str, test: Callable[[Resource], bool]) -> list[Resource]:
        return [r for r in self.resources if r["resourceType"] == resource_type and test(r)]

    def one(self, resource_type: str, test: Callable[[Resource], bool]) -> Resource | None:
        found = self.every(resource_type, test)
        assert len(found) <= 1, f"{len(found)} {resource_type} resources match"
        return found[0] if found else None


def target(reference: dict[str, Any]) -> str:
    """The id a reference names: an entry of the bundle, or a user's id by identifier."""
    if "reference" in reference:
        return str(reference["reference"]).removeprefix("urn:uuid:")
    return str(reference["identifier"]["value"])


def targets(references: list[dict[str, Any]] | None) -> list[str]:
    return [target(reference) for reference in references or []]


def ext(resource: Resource | None, url: str) -> Any:
    """The value of the resource's extension `url`, or None."""
    for item in (resource or {}).get("extension", []):
        if item["url"] == url:
            (value,) = [v for k, v in item.items() if k.startswith("value")]
            return value
    return None


def coded(concept: dict[str, Any] | None, system: str) -> str | None:
    found = [c["code"] for c in (concept or {}).get("coding", []) if c["system"] == system]
    assert len(found) <= 1
    return found[0] if found else None


def component(resource: Resource | None, system: str, code: str) -> Any:
    for part in (resource or {}).get("component", []):
        if coded(part["code"], system) == code:
            (value,) = [v for k, v in part.items() if k.startswith("value")]
            return value
    return None


def decoded(document: Resource) -> str:
    (content,) = document["content"]
    return base64.b64decode(content["attachment"]["data"]).decode()


def text_of(items: list[dict[str, Any]] | None) -> str | None:
    return items[0]["text"] if items else None


def telecom(resource: Resource, system: str) -> str:
    (value,) = [t["value"] for t in resource["telecom"] if t["system"] == system]
    return str(value)


# --- where each record lives ----------------------------------------------------------------


def patient(f: Fhir, _: Scope) -> Resource:
    (found,) = f.every("Patient", lambda r: True)
    return found


def member(f: Fhir, s: Scope) -> dict[str, Any]:
    (team,) = f.every("CareTeam", lambda r: True)
    (found,) = [p for p in team["participant"] if target(p["member"]) == s["member"]["id"]]
    return found  # type: ignore[no-any-return]


def practitioner(f: Fhir, s: Scope) -> Resource:
    return f.get("Practitioner", s["member"]["id"])


def appointment(f: Fhir, s: Scope) -> Resource:
    return f.get("Appointment", s["session"]["id"])


def actor(f: Fhir, s: Scope, resource_type: str) -> Resource | str:
    (found,) = [
        p["actor"] for p in appointment(f, s)["participant"] if p["actor"]["type"] == resource_type
    ]
    if resource_type == "RelatedPerson":
        return f.get("RelatedPerson", target(found))
    return target(found)


def encounter(f: Fhir, s: Scope) -> Resource | None:
    return f.one("Encounter", lambda r: targets(r["appointment"]) == [s["session"]["id"]])


def medication(f: Fhir, s: Scope) -> Any:
    found = encounter(f, s)
    if found is None:
        return None
    given = f.one("MedicationAdministration", lambda r: target(r["context"]) == found["id"])
    assert given is None or "dosage" not in given, "never a dose"
    return given["effectiveDateTime"] if given else None


def provenance(f: Fhir, s: Scope) -> Resource:
    moves = f.every("Provenance", lambda r: targets(r["target"]) == [s["session"]["id"]])
    return moves[s["transition#"]]


def document(f: Fhir, s: Scope) -> Resource:
    return f.get("DocumentReference", s["note"]["id"])


def observed(f: Fhir, s: Scope, system: str, code: str) -> list[Resource]:
    """The note's observations with this code."""
    return f.every(
        "Observation",
        lambda r: (
            s["note"]["id"] in targets(r.get("derivedFrom")) and coded(r["code"], system) == code
        ),
    )


def observed_value(f: Fhir, s: Scope, system: str, code: str, value: str) -> Any:
    found = observed(f, s, system, code)
    assert len(found) <= 1
    if not found:
        return None
    if value == "valueQuantity":
        return found[0][value]["value"]
    if value == "valueCodeableConcept":
        return found[0][value]["coding"][0]["code"]
    return found[0][value]


def blood_pressure(f: Fhir, s: Scope, code: str) -> Any:
    panels = observed(f, s, LOINC, "85354-9")
    assert len(panels) <= 1
    value = component(panels[0] if panels else None, LOINC, code)
    return value["value"] if value else None


def adverse_event(f: Fhir, s: Scope) -> Resource | None:
    return f.one("AdverseEvent", lambda r: targets(r["referenceDocument"]) == [s["note"]["id"]])


def amendment(f: Fhir, s: Scope) -> Resource:
    found = f.get("DocumentReference", s["amendment"]["id"])
    assert found["relatesTo"][0]["code"] == "appends"
    assert target(found["relatesTo"][0]["target"]) == s["note"]["id"]
    return found


def checkin(f: Fhir, s: Scope) -> Resource:
    return f.get("Observation", s["checkin"]["id"])


def total(f: Fhir, s: Scope) -> Resource:
    checkin_id = s["checkin"]["id"]
    (response,) = f.every(
        "QuestionnaireResponse",
        lambda r: (
            targets(r["partOf"]) == [checkin_id]
            and ext(r, INSTRUMENT).startswith(f"{s['instrument']} ")
        ),
    )
    (found,) = f.every(
        "Observation",
        lambda r: r["id"] != checkin_id and response["id"] in targets(r.get("derivedFrom")),
    )
    return found


def flag(f: Fhir, s: Scope) -> Resource:
    return f.get("Flag", s["alert"]["id"])


def alert_ext(name: str) -> Callable[[Fhir, Scope], Any]:
    return lambda f, s: ext(flag(f, s), f"urn:telehealth:alert-{name}")


def alert_ref(name: str) -> Callable[[Fhir, Scope], Any]:
    def find(f: Fhir, s: Scope) -> Any:
        value = ext(flag(f, s), f"urn:telehealth:alert-{name}")
        return target(value) if value else None

    return find


def source_type(f: Fhir, s: Scope) -> str:
    return SOURCE_TYPES[ext(flag(f, s), "urn:telehealth:alert-source")["type"]]


# --- the mapping ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    """Where FHIR keeps a fact (as docs/export.md says it), and how to read it back."""

    fhir: str
    read: Callable[[Fhir, Scope], Any]
    #: An object that may be null (a note's adverse event): its fields have their own entries,
    #: this one only reads whether FHIR has it at all.
    object: bool = False


def vital(name: str, code: str) -> Where:
    return Where(
        f"Observation (vital-signs, LOINC {code}) derived from the note: valueQuantity",
        lambda f, s: observed_value(f, s, LOINC, code, "valueQuantity"),
    )


NOTE = "sessions[].monitoring_notes[]"
EVENT = f"{NOTE}.adverse_event"
AMENDMENT = f"{NOTE}.amendments[]"
SCORE = "checkins[].scores{}"

MAPPING: dict[str, Where] = {
    "format": Where(
        "Bundle.meta.tag (export-format).code",
        lambda f, s: coded({"coding": f.bundle["meta"]["tag"]}, code_system("export-format")),
    ),
    "version": Where(
        "Bundle.meta.tag (export-format).version",
        lambda f, s: int(f.bundle["meta"]["tag"][0]["version"]),
    ),
    "exported_at": Where("Bundle.timestamp", lambda f, s: f.bundle["timestamp"]),
    # The patient
    "patient.id": Where("Patient.id", lambda f, s: patient(f, s)["id"]),
    "patient.email": Where("Patient.telecom (email)", lambda f, s: telecom(patient(f, s), "email")),
    "patient.name": Where("Patient.name.text", lambda f, s: patient(f, s)["name"][0]["text"]),
    "patient.date_of_birth": Where("Patient.birthDate", lambda f, s: patient(f, s)["birthDate"]),
    "patient.timezone": Where(
        "Patient.extension (timezone).valueCode", lambda f, s: ext(patient(f, s), TIMEZONE)
    ),
    "patient.emergency_contact.name": Where(
        "Patient.contact.name.text", lambda f, s: patient(f, s)["contact"][0]["name"]["text"]
    ),
    "patient.emergency_contact.phone": Where(
        "Patient.contact.telecom (phone)",
        lambda f, s: telecom(patient(f, s)["contact"][0], "phone"),
    ),
    "patient.is_active": Where("Patient.active", lambda f, s: patient(f, s)["active"]),
    "patient.care_team[].id": Where(
        "CareTeam.participant.member (Practitioner)", lambda f, s: target(member(f, s)["member"])
    ),
    "patient.care_team[].name": Where(
        "Practitioner.name.text", lambda f, s: practitioner(f, s)["name"][0]["text"]
    ),
    "patient.care_team[].email": Where(
        "Practitioner.telecom (email)", lambda f, s: telecom(practitioner(f, s), "email")
    ),
    "patient.care_team[].is_active": Where(
        "Practitioner.active", lambda f, s: practitioner(f, s)["active"]
    ),
    "patient.care_team[].added_at": Where(
        "CareTeam.participant.period.start", lambda f, s: member(f, s)["period"]["start"]
    ),
    "patient.created_at": Where(
        "Patient.extension (created-at).valueDateTime",
        lambda f, s: ext(patient(f, s), extension("created-at")),
    ),
    "patient.updated_at": Where(
        "Patient.meta.lastUpdated", lambda f, s: patient(f, s)["meta"]["lastUpdated"]
    ),
    # Sessions
    "sessions[].id": Where("Appointment.id", lambda f, s: appointment(f, s)["id"]),
    "sessions[].patient_id": Where(
        "Appointment.participant.actor (Patient)", lambda f, s: actor(f, s, "Patient")
    ),
    "sessions[].clinician_id": Where(
        "Appointment.participant.actor (Practitioner)", lambda f, s: actor(f, s, "Practitioner")
    ),
    "sessions[].status": Where(
        "Appointment.status (booked, arrived, fulfilled, cancelled, noshow)",
        lambda f, s: APPOINTMENT_STATUS[appointment(f, s)["status"]],
    ),
    "sessions[].scheduled_start": Where(
        "Appointment.start", lambda f, s: appointment(f, s)["start"]
    ),
    "sessions[].scheduled_start_local": Where(
        "Appointment.start, in the time zone of Appointment.extension (timezone)",
        lambda f, s: _local(appointment(f, s)),
    ),
    "sessions[].timezone": Where(
        "Appointment.extension (timezone).valueCode",
        lambda f, s: ext(appointment(f, s), TIMEZONE),
    ),
    "sessions[].scheduled_end": Where("Appointment.end", lambda f, s: appointment(f, s)["end"]),
    "sessions[].duration_minutes": Where(
        "Appointment.minutesDuration", lambda f, s: appointment(f, s)["minutesDuration"]
    ),
    "sessions[].modality": Where(
        "Appointment.extension (session-modality).valueCoding",
        lambda f, s: ext(appointment(f, s), extension("session-modality"))["code"],
    ),
    "sessions[].treatment_monitor.name": Where(
        "RelatedPerson.name.text (the appointment's participant)",
        lambda f, s: actor(f, s, "RelatedPerson")["name"][0]["text"],  # type: ignore[index]
    ),
    "sessions[].treatment_monitor.phone": Where(
        "RelatedPerson.telecom (phone)",
        lambda f, s: telecom(actor(f, s, "RelatedPerson"), "phone"),  # type: ignore[arg-type]
    ),
    "sessions[].notes": Where("Appointment.comment", lambda f, s: appointment(f, s).get("comment")),
    "sessions[].medication_taken_at": Where(
        "MedicationAdministration.effectiveDateTime (context: the Encounter; no dose)", medication
    ),
    "sessions[].completion_reason": Where(
        "Encounter.extension (session-completion-reason).valueString",
        lambda f, s: ext(encounter(f, s), extension("session-completion-reason")),
    ),
    "sessions[].transitions[].from_status": Where(
        "Provenance.extension (session-status-from).valueCode",
        lambda f, s: ext(provenance(f, s), extension("session-status-from")),
    ),
    "sessions[].transitions[].to_status": Where(
        "Provenance.activity (session-status)",
        lambda f, s: coded(provenance(f, s)["activity"], code_system("session-status")),
    ),
    "sessions[].transitions[].actor_id": Where(
        "Provenance.agent.who", lambda f, s: target(provenance(f, s)["agent"][0]["who"])
    ),
    "sessions[].transitions[].occurred_at": Where(
        "Provenance.occurredDateTime", lambda f, s: provenance(f, s)["occurredDateTime"]
    ),
    "sessions[].transitions[].reason": Where(
        "Provenance.reason.text", lambda f, s: text_of(provenance(f, s).get("reason"))
    ),
    "sessions[].created_at": Where(
        "Appointment.created", lambda f, s: appointment(f, s)["created"]
    ),
    "sessions[].updated_at": Where(
        "Appointment.meta.lastUpdated", lambda f, s: appointment(f, s)["meta"]["lastUpdated"]
    ),
    # Monitoring notes
    f"{NOTE}.id": Where("DocumentReference.id", lambda f, s: document(f, s)["id"]),
    f"{NOTE}.session_id": Where(
        "DocumentReference.context.related (Appointment)",
        lambda f, s: target(document(f, s)["context"]["related"][0]),
    ),
    f"{NOTE}.patient_id": Where(
        "DocumentReference.subject", lambda f, s: target(document(f, s)["subject"])
    ),
    f"{NOTE}.author_id": Where(
        "DocumentReference.author", lambda f, s: target(document(f, s)["author"][0])
    ),
    f"{NOTE}.checkpoint": Where(
        "DocumentReference.context.event (checkpoint)",
        lambda f, s: coded(
            (document(f, s)["context"].get("event") or [None])[0], code_system("checkpoint")
        ),
    ),
    f"{NOTE}.observed_at": Where(
        "DocumentReference.context.period.start; effectiveDateTime of its observations",
        lambda f, s: document(f, s)["context"]["period"]["start"],
    ),
    f"{NOTE}.vitals.systolic": Where(
        "Observation (LOINC 85354-9) derived from the note: component 8480-6",
        lambda f, s: blood_pressure(f, s, "8480-6"),
    ),
    f"{NOTE}.vitals.diastolic": Where(
        "Observation (LOINC 85354-9) derived from the note: component 8462-4",
        lambda f, s: blood_pressure(f, s, "8462-4"),
    ),
    f"{NOTE}.vitals.heart_rate": vital("heart_rate", "8867-4"),
    f"{NOTE}.vitals.spo2": vital("spo2", "59408-5"),
    f"{NOTE}.vitals.respiratory_rate": vital("respiratory_rate", "9279-1"),
    f"{NOTE}.vitals.temperature": vital("temperature", "8310-5"),
    f"{NOTE}.sedation": Where(
        "Observation (exam, sedation-moaas) derived from the note: valueInteger",
        lambda f, s: observed_value(f, s, OWN, "sedation-moaas", "valueInteger"),
    ),
    f"{NOTE}.dissociation": Where(
        "Observation (exam, dissociation) derived from the note: valueCodeableConcept",
        lambda f, s: observed_value(f, s, OWN, "dissociation", "valueCodeableConcept"),
    ),
    f"{NOTE}.side_effects": Where(
        "Observation (exam, side-effect) derived from the note, one per side effect",
        lambda f, s: [
            r["valueCodeableConcept"]["coding"][0]["code"]
            for r in observed(f, s, OWN, "side-effect")
        ],
    ),
    EVENT: Where(
        "AdverseEvent whose referenceDocument is the note",
        lambda f, s: adverse_event(f, s) and "present",
        object=True,
    ),
    f"{EVENT}.description": Where(
        "AdverseEvent.event.text",
        lambda f, s: adverse_event(f, s)["event"]["text"],  # type: ignore[index]
    ),
    f"{EVENT}.severity": Where(
        "AdverseEvent.severity (adverse-event-severity)",
        lambda f, s: coded(
            adverse_event(f, s)["severity"],  # type: ignore[index]
            "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
        ),
    ),
    f"{EVENT}.serious": Where(
        "AdverseEvent.seriousness (serious, non-serious)",
        lambda f, s: (
            coded(
                adverse_event(f, s)["seriousness"],  # type: ignore[index]
                "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness",
            )
            == "serious"
        ),
    ),
    f"{EVENT}.emergency_care": Where(
        "AdverseEvent.extension (adverse-event-emergency-care).valueBoolean",
        lambda f, s: ext(adverse_event(f, s), extension("adverse-event-emergency-care")),
    ),
    f"{EVENT}.action_taken": Where(
        "AdverseEvent.extension (adverse-event-action-taken).valueString",
        lambda f, s: ext(adverse_event(f, s), extension("adverse-event-action-taken")),
    ),
    f"{NOTE}.text": Where(
        "DocumentReference.content.attachment.data (base64, text/plain)",
        lambda f, s: decoded(document(f, s)),
    ),
    f"{NOTE}.created_at": Where("DocumentReference.date", lambda f, s: document(f, s)["date"]),
    f"{NOTE}.signed_at": Where(
        "DocumentReference.extension (signed-at).valueDateTime; docStatus final",
        lambda f, s: ext(document(f, s), extension("signed-at")),
    ),
    f"{AMENDMENT}.id": Where(
        "DocumentReference.id, relatesTo appends the note", lambda f, s: amendment(f, s)["id"]
    ),
    f"{AMENDMENT}.text": Where(
        "DocumentReference.content.attachment.data, before the reason",
        lambda f, s: decoded(amendment(f, s)).rpartition("\n\nReason: ")[0],
    ),
    f"{AMENDMENT}.reason": Where(
        "DocumentReference.content.attachment.data, after `Reason: `",
        lambda f, s: decoded(amendment(f, s)).rpartition("\n\nReason: ")[2],
    ),
    f"{AMENDMENT}.author_id": Where(
        "DocumentReference.author", lambda f, s: target(amendment(f, s)["author"][0])
    ),
    f"{AMENDMENT}.created_at": Where(
        "DocumentReference.date", lambda f, s: amendment(f, s)["date"]
    ),
    # Check-ins
    "checkins[].id": Where(
        "Observation.id (survey, daily-checkin)", lambda f, s: checkin(f, s)["id"]
    ),
    "checkins[].patient_id": Where(
        "Observation.subject", lambda f, s: target(checkin(f, s)["subject"])
    ),
    "checkins[].session_id": Where(
        "Observation.extension (checkin-session).valueReference (Appointment)",
        lambda f, s: (lambda v: target(v) if v else None)(
            ext(checkin(f, s), extension("checkin-session"))
        ),
    ),
    "checkins[].recorded_at": Where(
        "Observation.effectiveDateTime", lambda f, s: checkin(f, s)["effectiveDateTime"]
    ),
    "checkins[].received_at": Where("Observation.issued", lambda f, s: checkin(f, s)["issued"]),
    "checkins[].updated_at": Where(
        "Observation.meta.lastUpdated", lambda f, s: checkin(f, s)["meta"]["lastUpdated"]
    ),
    "checkins[].mood": Where(
        "Observation.component (mood).valueInteger",
        lambda f, s: component(checkin(f, s), OWN, "mood"),
    ),
    "checkins[].anxiety": Where(
        "Observation.component (anxiety).valueInteger",
        lambda f, s: component(checkin(f, s), OWN, "anxiety"),
    ),
    "checkins[].sleep_hours": Where(
        "Observation.component (LOINC 93832-4 Sleep duration).valueQuantity, h",
        lambda f, s: (lambda v: v["value"] if v else None)(
            component(checkin(f, s), LOINC, "93832-4")
        ),
    ),
    "checkins[].note": Where(
        "Observation.note.text", lambda f, s: text_of(checkin(f, s).get("note"))
    ),
    "checkins[].context": Where(
        "Observation.component (checkin-context).valueCodeableConcept",
        lambda f, s: component(checkin(f, s), OWN, "checkin-context")["coding"][0]["code"],
    ),
    f"{SCORE}.total": Where(
        "Observation (survey; LOINC 44261-6 PHQ-9, 70274-6 GAD-7; pcl-5-total) derived from the "
        "QuestionnaireResponse that is partOf the check-in: valueInteger",
        lambda f, s: total(f, s)["valueInteger"],
    ),
    f"{SCORE}.band": Where(
        "the total's Observation.interpretation (score-band)",
        lambda f, s: coded(
            (total(f, s).get("interpretation") or [None])[0], code_system("score-band")
        ),
    ),
    f"{SCORE}.probable_ptsd": Where(
        "the total's Observation.component (probable-ptsd).valueBoolean",
        lambda f, s: component(total(f, s), OWN, "probable-ptsd"),
    ),
    f"{SCORE}.provisional_ptsd": Where(
        "the total's Observation.component (provisional-ptsd).valueBoolean",
        lambda f, s: component(total(f, s), OWN, "provisional-ptsd"),
    ),
    # Alerts
    "alerts[].id": Where("Flag.id", lambda f, s: flag(f, s)["id"]),
    "alerts[].kind": Where(
        "Flag.code (alert-kind)", lambda f, s: coded(flag(f, s)["code"], code_system("alert-kind"))
    ),
    "alerts[].priority": Where(
        "Flag.extension (urn:telehealth:alert-priority).valueInteger", alert_ext("priority")
    ),
    "alerts[].patient_id": Where("Flag.subject", lambda f, s: target(flag(f, s)["subject"])),
    "alerts[].status": Where(
        "Flag.status (active: open, inactive: acknowledged)",
        lambda f, s: "open" if flag(f, s)["status"] == "active" else "acknowledged",
    ),
    "alerts[].reason": Where(
        "Flag.code.text, after `kind: `", lambda f, s: flag(f, s)["code"]["text"].partition(": ")[2]
    ),
    "alerts[].source.type": Where(
        "Flag.extension (urn:telehealth:alert-source).valueReference.type", source_type
    ),
    "alerts[].source.id": Where(
        "Flag.extension (urn:telehealth:alert-source).valueReference", alert_ref("source")
    ),
    "alerts[].source_type": Where("as `source.type`", source_type),
    "alerts[].source_id": Where("as `source.id`", alert_ref("source")),
    "alerts[].session_id": Where(
        "Flag.extension (urn:telehealth:alert-session).valueReference", alert_ref("session")
    ),
    "alerts[].checkpoint": Where(
        "Flag.extension (urn:telehealth:alert-checkpoint).valueString", alert_ext("checkpoint")
    ),
    "alerts[].escalation_level": Where(
        "Flag.extension (urn:telehealth:alert-escalation-level).valueInteger",
        alert_ext("escalation-level"),
    ),
    "alerts[].escalated_at": Where(
        "Flag.extension (urn:telehealth:alert-escalated-at).valueDateTime",
        alert_ext("escalated-at"),
    ),
    "alerts[].created_at": Where("Flag.period.start", lambda f, s: flag(f, s)["period"]["start"]),
    "alerts[].acknowledged_by": Where(
        "Flag.extension (urn:telehealth:alert-acknowledged-by).valueReference",
        alert_ref("acknowledged-by"),
    ),
    "alerts[].acknowledged_at": Where(
        "Flag.period.end", lambda f, s: flag(f, s)["period"].get("end")
    ),
    "alerts[].note": Where(
        "Flag.extension (urn:telehealth:alert-note).valueString", alert_ext("note")
    ),
}


def _local(resource: Resource) -> str:
    start = datetime.fromisoformat(resource["start"])
    return start.astimezone(ZoneInfo(ext(resource, TIMEZONE))).isoformat()
