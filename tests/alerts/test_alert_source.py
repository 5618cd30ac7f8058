"""An alert names where it came from (clinical reference, "Safety alerts"; api-contract
additions): `source: {type, id}` that the care team opens in one step (`checkin` at
/checkins/{id}, `monitoring_note` at /notes/{id}, `session` at /sessions/{id}), the same pair
as `source_type`/`source_id`, and `session_id` where the trigger came from a session. New
alerts are not escalated (`escalation_level` 0, `escalated_at` null)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.alerts.alert_helpers import (
    API,
    list_all,
    minutes_ago,
    open_session,
    serious_adverse_event_note,
    severe_score,
    stored_alerts,
    suicidal_ideation,
    vital_sign_note,
)
from tests.factories import frozen
from tests.outcomes.outcome_helpers import phq9, submit

#: Where each type of source is read.
SOURCE_PATHS = {"checkin": "checkins", "monitoring_note": "notes", "session": "sessions"}
#: A frozen clock's start, and the session it schedules half an hour later.
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
GRACE = timedelta(minutes=15)


def open_source(client, headers: dict[str, str], alert: dict[str, Any]) -> dict[str, Any]:
    """GET the path built from the alert's `source` (asserting 200); the record."""
    source = alert["source"]
    response = client.get(f"{API}/{SOURCE_PATHS[source['type']]}/{source['id']}", headers=headers)
    assert response.status_code == 200, (alert, response.get_json())
    record = response.get_json()
    assert record["id"] == source["id"]
    return record  # type: ignore[no-any-return]


def only_listed(client, world) -> dict[str, Any]:
    (alert,) = list_all(client, world.clinician.headers)
    return alert


def test_a_checkin_alert_names_the_checkin(client, world):
    submitted = suicidal_ideation(client, world.patient)

    alert = only_listed(client, world)

    assert alert["source"] == {"type": "checkin", "id": submitted["id"]}
    assert (alert["source_type"], alert["source_id"]) == ("checkin", submitted["id"])
    assert alert["session_id"] is None
    assert alert["checkpoint"] is None
    open_source(client, world.clinician.headers, alert)


def test_a_checkin_about_a_session_names_the_session_too(client, world):
    session_id = open_session(client, world.clinician, world.patient)
    response = client.post(
        f"{API}/checkins",
        headers=world.patient.headers,
        json={
            "recorded_at": minutes_ago().isoformat(),
            "mood": 3,
            "context": "post_session",
            "session_id": session_id,
            "instruments": {"PHQ-9": phq9(7, item9=1)},
        },
    )
    assert response.status_code == 201, response.get_json()

    alert = only_listed(client, world)

    assert alert["source"] == {"type": "checkin", "id": response.get_json()["id"]}
    assert alert["session_id"] == session_id
    (row,) = stored_alerts(client.application)
    assert str(row.session_id) == session_id
    open_source(client, world.clinician.headers, alert)


@pytest.mark.parametrize(
    ("kind", "record_note"),
    [("vital_sign", vital_sign_note), ("adverse_event", serious_adverse_event_note)],
    ids=["vital_sign", "adverse_event"],
)
def test_a_note_alert_names_the_note_and_its_session(client, world, kind, record_note):
    session_id = open_session(client, world.clinician, world.patient)
    note = record_note(client, world.clinician.headers, session_id)

    alert = only_listed(client, world)

    assert alert["kind"] == kind
    assert alert["source"] == {"type": "monitoring_note", "id": note["id"]}
    assert alert["session_id"] == session_id
    assert alert["checkpoint"] is None
    opened = open_source(client, world.clinician.headers, alert)
    assert opened["session_id"] == session_id


def test_an_overdue_checkpoint_alert_names_its_session_and_checkpoint(client, world):
    with frozen(client.application, T0) as clock:
        session_id = open_session(
            client, world.clinician, world.patient, headers=clock.headers(world.clinician)
        )
        clock.move_to(T0 + timedelta(minutes=30) + GRACE + timedelta(seconds=1))
        headers = clock.headers(world.clinician)

        (alert,) = list_all(client, headers)
        opened = open_source(client, headers, alert)

    assert alert["kind"] == "checkpoint_overdue"
    assert alert["source"] == {"type": "session", "id": session_id}
    assert alert["session_id"] == session_id
    assert alert["checkpoint"] == "pre_session"
    assert opened["status"] == "in_progress"


def test_every_kind_raised_through_the_api_opens_for_the_care_team_and_the_patient(client, world):
    with frozen(client.application, T0) as clock:
        clinician, patient = clock.headers(world.clinician), clock.headers(world.patient)
        session_id = open_session(client, world.clinician, world.patient, headers=clinician)
        submit(client, world.patient, T0 - timedelta(minutes=5), headers=patient, PHQ_9=phq9(8))
        # After the session's start, so the check-in before it stays the PHQ-9 baseline.
        clock.move_to(T0 + timedelta(minutes=31))
        clinician, patient = clock.headers(world.clinician), clock.headers(world.patient)
        submit(client, world.patient, clock.now(), headers=patient, PHQ_9=phq9(21, item9=1))
        vital_sign_note(client, clinician, session_id)
        serious_adverse_event_note(client, clinician, session_id)
        clock.move_to(T0 + timedelta(minutes=30) + GRACE + timedelta(seconds=1))
        clinician, patient = clock.headers(world.clinician), clock.headers(world.patient)

        listed = list_all(client, clinician)
        for alert in listed:
            open_source(client, clinician, alert)
            open_source(client, patient, alert)

    assert [alert["kind"] for alert in listed] == [
        "suicidal_ideation",
        "adverse_event",
        "checkpoint_overdue",
        "vital_sign",
        "severe_score",
        "deterioration",
    ]
    sessions = {alert["kind"]: alert["session_id"] for alert in listed}
    assert sessions == {
        "suicidal_ideation": None,
        "adverse_event": session_id,
        "checkpoint_overdue": session_id,
        "vital_sign": session_id,
        "severe_score": None,
        "deterioration": None,
    }


def test_an_outside_clinician_cannot_open_the_source(client, world):
    session_id = open_session(client, world.clinician, world.patient)
    vital_sign_note(client, world.clinician.headers, session_id)
    alert = only_listed(client, world)

    source = alert["source"]
    response = client.get(
        f"{API}/{SOURCE_PATHS[source['type']]}/{source['id']}",
        headers=world.other_clinician.headers,
    )

    assert response.status_code == 404


def test_new_alerts_are_not_escalated(client, world):
    suicidal_ideation(client, world.patient)
    severe_score(client, world.patient)
    session_id = open_session(client, world.clinician, world.patient)
    vital_sign_note(client, world.clinician.headers, session_id)

    listed = list_all(client, world.clinician.headers)

    assert len(listed) == 3
    assert all(alert["escalation_level"] == 0 for alert in listed)
    assert all(alert["escalated_at"] is None for alert in listed)
    rows = stored_alerts(client.application)
    assert [(row.escalation_level, row.escalated_at) for row in rows] == [(0, None)] * 3
