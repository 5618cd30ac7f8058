"""GET /patients/{id}/export?format=fhir: a FHIR R4 (R4B models) Bundle of type collection,
parsed back whole with fhir.resources and checked against the clinical reference's mapping table
(resource types, SNOMED and LOINC codes) and against what the API stored."""

from __future__ import annotations

import base64
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from flask import Flask
from flask.testing import FlaskClient

from tests.export.export_helpers import (
    BP_PANEL,
    DIASTOLIC,
    FHIR_JSON,
    LOINC,
    SNOMED,
    SURVEY_CATEGORY,
    SYSTOLIC,
    TOTAL_LOINC,
    VITAL_CATEGORY,
    VITAL_LOINC,
    Record,
    adverse_event_ids,
    build_record,
    category_codes,
    codes,
    exported_ok,
    references,
    resources,
    score_ids,
    stored_alerts,
)
from tests.problems import parse

MARKER = "fhir-export-marker"
UCUM = "http://unitsofmeasure.org"
#: UCUM code and unit of each single-valued vital sign.
VITAL_UNITS = {"heart_rate": "/min", "spo2": "%", "respiratory_rate": "/min", "temperature": "Cel"}


@pytest.fixture
def record(client: FlaskClient, world: Any) -> Record:
    return build_record(client, world.clinician, world.patient, MARKER)


@pytest.fixture
def exported(client: FlaskClient, world: Any, record: Record) -> Any:
    return exported_ok(client, world.patient, world.patient.id, format="fhir")


@pytest.fixture
def bundle(exported: Any) -> dict[str, Any]:
    return exported.json()  # type: ignore[no-any-return]


def ref(resource_id: str) -> str:
    return f"urn:uuid:{resource_id}"


def by_id(bundle: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {resource["id"]: resource for resource in resources(bundle, resource_type)}


def same_instant(value: str, expected: str | datetime) -> bool:
    expected_at = parse(expected) if isinstance(expected, str) else expected
    return parse(value) == expected_at


def decoded(document: dict[str, Any]) -> str:
    (content,) = document["content"]
    return base64.b64decode(content["attachment"]["data"]).decode()


def test_the_whole_body_parses_as_an_r4b_bundle_of_type_collection(
    app: Flask, world: Any, record: Record, exported: Any
) -> None:
    assert exported.mimetype == FHIR_JSON
    assert exported.headers["Content-Disposition"] == 'attachment; filename="record.fhir.json"'

    model = Bundle.model_validate_json(exported.text)
    assert model.type == "collection"
    assert model.timestamp is not None
    assert model.entry is not None

    alerts = len(stored_alerts(app, world.patient.id))
    expected = Counter(
        {
            "Patient": 1,
            "Practitioner": 1,
            "CareTeam": 1,
            "Appointment": 2,
            "RelatedPerson": 2,  # each session's treatment monitor
            "Provenance": 2 + 1,  # started and completed; cancelled
            "Encounter": 1,
            "MedicationAdministration": 1,
            "DocumentReference": 3 + 3,  # three notes and three amendments
            # Per note five vital signs, sedation and dissociation; two side effects; three
            # check-ins and five questionnaire totals.
            "Observation": 3 * (5 + 2) + 2 + 3 + 5,
            "AdverseEvent": 1,
            "QuestionnaireResponse": 5,
            "Flag": alerts,
        }
    )
    assert Counter(entry.resource.get_resource_type() for entry in model.entry) == expected


def test_every_reference_resolves_to_an_entry_of_the_bundle(bundle: dict[str, Any]) -> None:
    full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(full_urls) == len(set(full_urls)), "fullUrls are unique"
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == ref(entry["resource"]["id"])
    types = {entry["fullUrl"]: entry["resource"]["resourceType"] for entry in bundle["entry"]}

    found = 0
    for entry in bundle["entry"]:
        for reference in references(entry["resource"]):
            found += 1
            assert reference.startswith("urn:uuid:"), reference
            assert reference in types, f"{reference} in {entry['resource']['resourceType']}"
    assert found > len(bundle["entry"])
    # Each typed reference names the type of the entry it resolves to.
    for entry in bundle["entry"]:
        for node in _typed_references(entry["resource"]):
            assert types[node["reference"]] == node["type"], node


def _typed_references(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        own = [node] if "reference" in node and "type" in node else []
        return own + [found for value in node.values() for found in _typed_references(value)]
    if isinstance(node, list):
        return [found for item in node for found in _typed_references(item)]
    return []


def test_patient_practitioner_and_care_team(world: Any, bundle: dict[str, Any]) -> None:
    (patient,) = resources(bundle, "Patient")
    assert patient["id"] == world.patient.id
    assert patient["name"] == [{"text": "Pat Able"}]
    assert patient["birthDate"] == "1980-01-02"
    assert {"system": "email", "value": world.patient.user.email} in patient["telecom"]

    (practitioner,) = resources(bundle, "Practitioner")
    assert practitioner["id"] == world.clinician.id
    assert practitioner["name"] == [{"text": "Dr. Alice Able"}]

    (team,) = resources(bundle, "CareTeam")
    assert team["subject"]["reference"] == ref(world.patient.id)
    assert [p["member"]["reference"] for p in team["participant"]] == [ref(world.clinician.id)]


def test_appointments_for_every_session_and_an_encounter_only_for_the_one_that_happened(
    world: Any, record: Record, bundle: dict[str, Any]
) -> None:
    appointments = by_id(bundle, "Appointment")
    assert set(appointments) == record.session_ids
    for appointment in appointments.values():
        assert SNOMED in {c["system"] for st in appointment["serviceType"] for c in st["coding"]}
        assert codes(appointment["serviceType"][0], SNOMED) == {"448337001"}
        actors = {
            p["actor"]["reference"]
            for p in appointment["participant"]
            if p["actor"]["type"] != "RelatedPerson"
        }
        assert actors == {ref(world.patient.id), ref(world.clinician.id)}

    completed = appointments[record.completed["id"]]
    assert completed["status"] == "fulfilled"
    assert same_instant(completed["start"], record.completed["scheduled_start"])
    assert completed["minutesDuration"] == 120
    assert "cancelationReason" not in completed

    cancelled = appointments[record.cancelled["id"]]
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancelationReason"] == {"text": record.cancel_reason}

    (encounter,) = resources(bundle, "Encounter")
    assert encounter["class"]["code"] == "VR"
    assert encounter["class"]["system"] == "http://terminology.hl7.org/CodeSystem/v3-ActCode"
    assert encounter["status"] == "finished"
    assert encounter["appointment"] == [
        {"reference": ref(record.completed["id"]), "type": "Appointment"}
    ]
    assert encounter["subject"]["reference"] == ref(world.patient.id)
    moves = {t["to_status"]: t["occurred_at"] for t in record.completed["transitions"]}
    assert same_instant(encounter["period"]["start"], moves["in_progress"])
    assert same_instant(encounter["period"]["end"], moves["completed"])
    # Completed without every note signed: the clinician's reason stays on the record.
    assert encounter["extension"] == [
        {
            "url": "urn:telehealth:fhir:extension:session-completion-reason",
            "valueString": record.completion_reason,
        }
    ]


def test_questionnaire_responses_and_survey_totals_with_loinc_codes(
    app: Flask, world: Any, record: Record, bundle: dict[str, Any]
) -> None:
    responses = by_id(bundle, "QuestionnaireResponse")
    scores = score_ids(app, world.patient.id)
    assert set(responses) == set(scores.values())
    assert len(responses) == len(record.scores) == 5

    answered = {
        (checkin["id"], code): answers
        for checkin, body in zip(record.checkins, record.answers, strict=True)
        for code, answers in body.items()
    }
    for key, score_id in scores.items():
        response = responses[score_id]
        assert response["status"] == "completed"
        assert response["subject"]["reference"] == ref(world.patient.id)
        assert [item["answer"][0]["valueInteger"] for item in response["item"]] == answered[key]
        assert [item["linkId"] for item in response["item"]] == [
            str(n) for n in range(1, len(answered[key]) + 1)
        ]
        assert response["extension"][0]["valueString"].startswith(f"{key[1]} ")

    totals = [
        observation
        for observation in resources(bundle, "Observation")
        if SURVEY_CATEGORY in category_codes(observation) and codes(observation["code"], LOINC)
    ]
    assert len(totals) == 4  # PHQ-9 and GAD-7 twice each; PCL-5 has no LOINC code
    expected = {
        (scores[(checkin_id, code)], TOTAL_LOINC[code]): score["total"]
        for checkin_id, code, score in record.scores
        if code in TOTAL_LOINC
    }
    seen = {}
    for observation in totals:
        (loinc,) = codes(observation["code"], LOINC)
        (derived,) = observation["derivedFrom"]
        assert derived["type"] == "QuestionnaireResponse"
        source = derived["reference"].removeprefix("urn:uuid:")
        seen[(source, loinc)] = observation["valueInteger"]
        assert observation["status"] == "final"
        assert observation["subject"]["reference"] == ref(world.patient.id)
    assert seen == expected
    assert sorted(seen.values()) == [4, 8, 8, 12]


def test_vital_signs_are_coded_observations_with_the_recorded_values(
    world: Any, record: Record, bundle: dict[str, Any]
) -> None:
    vitals = [
        observation
        for observation in resources(bundle, "Observation")
        if VITAL_CATEGORY in category_codes(observation)
    ]
    assert len(vitals) == 15
    for note in record.notes:
        taken = [o for o in vitals if same_instant(o["effectiveDateTime"], note["observed_at"])]
        by_code = {code: o for o in taken for code in codes(o["code"], LOINC)}
        assert set(by_code) == {BP_PANEL, *VITAL_LOINC.values()}, note["checkpoint"]
        assert len(taken) == 5

        panel = by_code[BP_PANEL]
        assert "valueQuantity" not in panel
        components = {
            code: component["valueQuantity"]
            for component in panel["component"]
            for code in codes(component["code"], LOINC)
        }
        assert components == {
            SYSTOLIC: _quantity(note["vitals"]["systolic"], "mmHg", "mm[Hg]"),
            DIASTOLIC: _quantity(note["vitals"]["diastolic"], "mmHg", "mm[Hg]"),
        }
        for name, loinc in VITAL_LOINC.items():
            unit = VITAL_UNITS[name]
            quantity = by_code[loinc]["valueQuantity"]
            assert quantity == _quantity(note["vitals"][name], unit, unit), name
        for observation in taken:
            assert observation["status"] == "final"
            assert observation["subject"]["reference"] == ref(world.patient.id)
            assert observation["performer"] == [
                {"reference": ref(world.clinician.id), "type": "Practitioner"}
            ]


def _quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def test_each_note_and_amendment_is_a_document_and_amendments_append_to_their_note(
    world: Any, record: Record, bundle: dict[str, Any]
) -> None:
    documents = by_id(bundle, "DocumentReference")
    assert set(documents) == record.note_ids | record.amendment_ids

    for note in record.notes:
        document = documents[note["id"]]
        assert decoded(document) == note["text"]
        assert "relatesTo" not in document
        assert document["context"]["related"] == [
            {"reference": ref(record.completed["id"]), "type": "Appointment"}
        ]
        assert document["author"] == [
            {"reference": ref(world.clinician.id), "type": "Practitioner"}
        ]
        signed = note["id"] == record.signed_note_id
        assert document["docStatus"] == ("final" if signed else "preliminary")

    for note_id, amendments in record.amendments.items():
        for amendment in amendments:
            document = documents[amendment["id"]]
            assert document["relatesTo"] == [
                {
                    "code": "appends",
                    "target": {"reference": ref(note_id), "type": "DocumentReference"},
                }
            ]
            text = decoded(document)
            assert amendment["text"] in text
            assert amendment["reason"] in text
            assert same_instant(document["date"], amendment["created_at"])


def test_the_adverse_event_is_an_adverse_event_resource(
    app: Flask, world: Any, record: Record, bundle: dict[str, Any]
) -> None:
    (event,) = resources(bundle, "AdverseEvent")
    assert event["id"] == adverse_event_ids(app, world.patient.id)[record.adverse_event_note_id]
    assert event["actuality"] == "actual"
    assert event["event"]["text"] == f"Fainted briefly; ambulance called. {MARKER}"
    assert codes(
        event["seriousness"], "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
    ) == {"serious"}
    assert codes(
        event["severity"], "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
    ) == {"severe"}
    assert event["subject"]["reference"] == ref(world.patient.id)
    assert event["recorder"]["reference"] == ref(world.clinician.id)
    assert same_instant(event["date"], record.note(record.adverse_event_note_id)["observed_at"])


def test_every_alert_is_a_flag_inactive_once_acknowledged(
    app: Flask, world: Any, record: Record, bundle: dict[str, Any]
) -> None:
    flags = by_id(bundle, "Flag")
    stored = {str(alert.id): alert for alert in stored_alerts(app, world.patient.id)}
    assert set(flags) == set(stored)
    for flag_id, flag in flags.items():
        alert = stored[flag_id]
        assert flag["status"] == ("inactive" if alert.status == "acknowledged" else "active")
        assert flag["code"]["text"].startswith(f"{alert.kind.value}:")
        assert flag["subject"]["reference"] == ref(world.patient.id)

    acknowledged = flags[record.acknowledged_alert_id]
    assert acknowledged["status"] == "inactive"
    assert acknowledged["code"]["text"].startswith("suicidal_ideation:")
    assert "end" in acknowledged["period"]
    assert [f["status"] for f in flags.values() if "adverse_event" in f["code"]["text"]] == [
        "active"
    ]
