"""GET /patients/{id}/export as JSON: the whole record of a patient, read back and compared with
what the API answered when each part was created (and answers now when read one by one)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.export.export_helpers import (
    API,
    Record,
    build_record,
    exported_ok,
    stored_alerts,
)
from tests.problems import assert_utc


@pytest.fixture
def record(client: FlaskClient, world: Any) -> Record:
    return build_record(client, world.clinician, world.patient, "json-export-marker")


@pytest.fixture
def body(client: FlaskClient, world: Any, record: Record) -> dict[str, Any]:
    exported = exported_ok(client, world.patient, world.patient.id)
    return exported.json()  # type: ignore[no-any-return]


def read(client: FlaskClient, actor: Any, path: str) -> dict[str, Any]:
    response = client.get(f"{API}{path}", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def sessions_by_id(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in body["sessions"]}


def test_json_is_the_default_format_served_as_an_attachment(
    client: FlaskClient, world: Any, record: Record
) -> None:
    default = exported_ok(client, world.patient, world.patient.id)
    explicit = exported_ok(client, world.patient, world.patient.id, format="json")
    for exported in (default, explicit):
        assert exported.mimetype == "application/json"
        assert exported.headers["Content-Disposition"] == 'attachment; filename="record.json"'
        body = exported.json()
        assert set(body) == {
            "format",
            "version",
            "exported_at",
            "patient",
            "sessions",
            "checkins",
            "alerts",
        }
        assert (body["format"], body["version"]) == ("telehealth-record", 1)
        assert_utc(body["exported_at"])
    assert default.json()["sessions"] == explicit.json()["sessions"]


def test_profile_and_care_team_are_the_patient_record(
    client: FlaskClient, world: Any, body: dict[str, Any]
) -> None:
    patient = body["patient"]
    assert patient == read(client, world.clinician, f"/patients/{world.patient.id}")
    assert (patient["id"], patient["name"], patient["email"]) == (
        world.patient.id,
        "Pat Able",
        world.patient.user.email,
    )
    assert patient["date_of_birth"] == "1980-01-02"
    assert patient["emergency_contact"] == {"name": "Em Contact", "phone": "+1 555 0100"}
    assert [member["id"] for member in patient["care_team"]] == [world.clinician.id]
    assert patient["care_team"][0]["name"] == "Dr. Alice Able"


def test_sessions_are_exported_as_the_session_api_shows_them(
    client: FlaskClient, world: Any, record: Record, body: dict[str, Any]
) -> None:
    sessions = sessions_by_id(body)
    assert set(sessions) == record.session_ids
    assert [item["id"] for item in body["sessions"]] == [
        record.completed["id"],
        record.cancelled["id"],
    ], "sessions in scheduled order"
    for session_id, exported in sessions.items():
        own = {key: value for key, value in exported.items() if key != "monitoring_notes"}
        assert own == read(client, world.clinician, f"/sessions/{session_id}")
        # The session's own free-text notes survive next to its monitoring notes.
        assert own["notes"] == "Session notes json-export-marker"

    completed = sessions[record.completed["id"]]
    assert completed["status"] == "completed"
    assert completed["medication_taken_at"] is not None
    assert [t["to_status"] for t in completed["transitions"]] == ["in_progress", "completed"]
    assert completed["completion_reason"] == record.completion_reason

    cancelled = sessions[record.cancelled["id"]]
    assert cancelled["status"] == "cancelled"
    assert cancelled["medication_taken_at"] is None
    (move,) = cancelled["transitions"]
    assert (move["to_status"], move["reason"]) == ("cancelled", record.cancel_reason)
    assert cancelled["monitoring_notes"] == []


def test_monitoring_notes_carry_vitals_adverse_event_signature_and_amendments(
    client: FlaskClient, world: Any, record: Record, body: dict[str, Any]
) -> None:
    notes = sessions_by_id(body)[record.completed["id"]]["monitoring_notes"]
    assert [note["id"] for note in notes] == [note["id"] for note in record.notes]
    for exported, created in zip(notes, record.notes, strict=True):
        assert exported == read(client, world.clinician, f"/notes/{created['id']}")
        assert exported["vitals"] == created["vitals"]
        assert set(exported["vitals"]) == {
            "systolic",
            "diastolic",
            "heart_rate",
            "spo2",
            "respiratory_rate",
            "temperature",
        }
        assert None not in exported["vitals"].values()
        assert exported["checkpoint"] == created["checkpoint"]

    by_id = {note["id"]: note for note in notes}
    signed = by_id[record.signed_note_id]
    assert signed["signed_at"] is not None
    assert_utc(signed["signed_at"])
    assert [note["signed_at"] for note in notes[1:]] == [None, None]

    for note_id, amendments in record.amendments.items():
        assert by_id[note_id]["amendments"] == amendments
    assert len(by_id[record.signed_note_id]["amendments"]) == 2
    assert by_id[notes[2]["id"]]["amendments"] == []
    assert sum(len(note["amendments"]) for note in notes) == 3

    event = by_id[record.adverse_event_note_id]["adverse_event"]
    assert event == {
        "description": "Fainted briefly; ambulance called. json-export-marker",
        "severity": "severe",
        "serious": True,
        "emergency_care": True,
        "action_taken": "Care team called emergency services.",
    }
    assert sum(note["adverse_event"] is not None for note in notes) == 1


def test_checkins_carry_their_server_scores(
    client: FlaskClient, world: Any, record: Record, body: dict[str, Any]
) -> None:
    checkins = body["checkins"]
    assert [item["id"] for item in checkins] == [item["id"] for item in record.checkins]
    for exported, submitted in zip(checkins, record.checkins, strict=True):
        assert exported == read(client, world.patient, f"/checkins/{submitted['id']}")
        assert exported["scores"] == submitted["scores"]
        assert exported["patient_id"] == world.patient.id
    first = checkins[0]["scores"]
    assert set(first) == {"PHQ-9", "GAD-7", "PCL-5"}
    assert first["PHQ-9"] == {"total": 12, "band": "moderate"}
    assert first["GAD-7"] == {"total": 8, "band": "mild"}
    assert first["PCL-5"]["total"] == 40
    assert first["PCL-5"]["probable_ptsd"] is True
    assert checkins[1]["scores"] == {
        "PHQ-9": {"total": 8, "band": "mild"},
        "GAD-7": {"total": 4, "band": "minimal"},
    }
    assert checkins[2]["scores"] == {}
    assert sum(len(item["scores"]) for item in checkins) == 5


def test_alerts_are_every_alert_of_the_patient(
    app: Flask, world: Any, record: Record, body: dict[str, Any]
) -> None:
    alerts = {alert["id"]: alert for alert in body["alerts"]}
    stored = stored_alerts(app, world.patient.id)
    assert len(body["alerts"]) == len(stored) >= 2
    assert set(alerts) == {str(alert.id) for alert in stored}

    acknowledged = alerts[record.acknowledged_alert_id]
    assert acknowledged["kind"] == "suicidal_ideation"
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["acknowledged_by"] == world.clinician.id
    assert acknowledged["note"] == "Called the patient; safe. json-export-marker"
    assert acknowledged["source_id"] == record.checkins[0]["id"]

    (adverse,) = [alert for alert in body["alerts"] if alert["kind"] == "adverse_event"]
    assert adverse["status"] == "open"
    assert adverse["source_id"] == record.adverse_event_note_id
    assert adverse["acknowledged_at"] is None
    assert all(alert["patient_id"] == world.patient.id for alert in body["alerts"])
