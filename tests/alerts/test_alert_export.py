"""Alerts in the record export: the JSON export shows each alert as GET /alerts does (source,
session, checkpoint, escalation); the FHIR Flag carries the priority, the session (as its
Appointment in the same bundle) and the checkpoint in extensions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.alerts.alert_helpers import (
    ALERT_KEYS,
    API,
    list_all,
    open_session,
    suicidal_ideation,
    vital_sign_note,
)
from tests.factories import frozen

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def raised(client, world) -> dict[str, Any]:
    """A check-in alert, a note alert and an overdue checkpoint of world.patient, as listed,
    and the exports (JSON and FHIR) the patient takes right after."""
    with frozen(client.application, T0) as clock:
        clinician = clock.headers(world.clinician)
        session_id = open_session(client, world.clinician, world.patient, headers=clinician)
        suicidal_ideation(client, world.patient, headers=clock.headers(world.patient))
        vital_sign_note(client, clinician, session_id)
        clock.move_to(T0 + timedelta(minutes=46))
        listed = {
            alert["kind"]: alert for alert in list_all(client, clock.headers(world.clinician))
        }
        exports = {}
        for form in ("json", "fhir"):
            response = client.get(
                f"{API}/patients/{world.patient.id}/export",
                headers=clock.headers(world.patient),
                query_string={"format": form},
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            exports[form] = json.loads(response.get_data(as_text=True))
            response.close()
    assert set(listed) == {"suicidal_ideation", "vital_sign", "checkpoint_overdue"}
    return {"session_id": session_id, "listed": listed, **exports}


def test_the_json_export_shows_each_alert_as_the_list_does(raised):
    exported = {alert["id"]: alert for alert in raised["json"]["alerts"]}

    assert len(exported) == 3
    for alert in raised["listed"].values():
        assert set(exported[alert["id"]]) == ALERT_KEYS
        assert exported[alert["id"]] == alert
    overdue = exported[raised["listed"]["checkpoint_overdue"]["id"]]
    assert overdue["source"] == {"type": "session", "id": raised["session_id"]}
    assert (overdue["session_id"], overdue["checkpoint"]) == (raised["session_id"], "pre_session")
    assert (overdue["escalation_level"], overdue["escalated_at"]) == (0, None)


def test_the_fhir_flag_names_priority_session_and_checkpoint(raised):
    resources = [entry["resource"] for entry in raised["fhir"]["entry"]]
    flags = {r["id"]: r for r in resources if r["resourceType"] == "Flag"}
    appointments = {r["id"] for r in resources if r["resourceType"] == "Appointment"}
    session_ref = f"urn:uuid:{raised['session_id']}"

    def extensions(kind: str) -> dict[str, Any]:
        flag = flags[raised["listed"][kind]["id"]]
        return {e["url"].removeprefix("urn:telehealth:"): e for e in flag["extension"]}

    assert raised["session_id"] in appointments
    overdue = extensions("checkpoint_overdue")
    assert overdue["alert-priority"]["valueInteger"] == 3
    assert overdue["alert-session"]["valueReference"]["reference"] == session_ref
    assert overdue["alert-checkpoint"]["valueString"] == "pre_session"
    vital = extensions("vital_sign")
    assert vital["alert-priority"]["valueInteger"] == 4
    assert vital["alert-session"]["valueReference"]["reference"] == session_ref
    assert "alert-checkpoint" not in vital
    assert extensions("suicidal_ideation").keys() == {
        "alert-priority",
        "alert-source",
        "alert-escalation-level",
    }
