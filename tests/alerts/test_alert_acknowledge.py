"""POST /alerts/{id}/acknowledge (api-contract, clinical reference "Safety alerts"): a care-team
clinician takes the alert on (who, when, an optional note); once only (409 after, the first
acknowledgement kept). Patients and admins may never (403); a clinician outside the care team
gets the same 404 as for an alert that does not exist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from telehealth.alerts.models import AlertStatus
from tests.alerts.alert_helpers import (
    ALERT_KEYS,
    ack_url,
    list_all,
    random_id,
    severe_score,
    stored_alerts,
    suicidal_ideation,
)
from tests.factories import frozen
from tests.problems import assert_problem, assert_utc, parse


@pytest.fixture
def alert_id(client, world):
    """An open suicidal-ideation alert of world.patient (care team: world.clinician)."""
    return suicidal_ideation(client, world.patient)["alerts"][0]["id"]


def acknowledge(client, actor, alert_id, body=None):
    return client.post(ack_url(alert_id), headers=actor.headers, json={} if body is None else body)


def join_care_team(client, world, clinician):
    response = client.put(
        f"/api/v1/patients/{world.patient.id}/care-team/{clinician.id}",
        headers=world.clinician.headers,
    )
    assert response.status_code in (200, 201, 204), response.get_json()


def test_acknowledging_records_who_when_and_the_note(client, world):
    moment = datetime(2026, 10, 7, 15, 30, tzinfo=UTC)
    with frozen(client.application, moment - timedelta(hours=1)) as clock:
        body = suicidal_ideation(client, world.patient, headers=clock.headers(world.patient))
        alert_id = body["alerts"][0]["id"]
        clock.move_to(moment)

        response = client.post(
            ack_url(alert_id),
            headers=clock.headers(world.clinician),
            json={"note": "Phoned the patient; safety plan reviewed."},
        )

    assert response.status_code == 200, response.get_json()
    alert = response.get_json()
    assert set(alert) == ALERT_KEYS
    assert alert["id"] == alert_id
    assert alert["status"] == "acknowledged"
    assert alert["kind"] == "suicidal_ideation"
    assert alert["acknowledged_by"] == world.clinician.id
    assert_utc(alert["acknowledged_at"])
    assert parse(alert["acknowledged_at"]) == moment
    assert parse(alert["created_at"]) == moment - timedelta(hours=1)
    assert alert["note"] == "Phoned the patient; safety plan reviewed."
    (row,) = stored_alerts(client.application)
    assert row.status is AlertStatus.ACKNOWLEDGED
    assert str(row.acknowledged_by_id) == world.clinician.id
    assert row.acknowledged_at == moment
    assert row.note == "Phoned the patient; safety plan reviewed."


@pytest.mark.parametrize("body", [{}, {"note": None}], ids=["no-note", "null-note"])
def test_the_note_is_optional(client, world, alert_id, body):
    response = acknowledge(client, world.clinician, alert_id, body)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["note"] is None
    assert response.get_json()["acknowledged_by"] == world.clinician.id


def test_a_note_of_exactly_2000_characters_is_kept(client, world, alert_id):
    note = "n" * 2000

    response = acknowledge(client, world.clinician, alert_id, {"note": note})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["note"] == note


def test_a_note_over_2000_characters_is_refused(client, world, alert_id):
    response = acknowledge(client, world.clinician, alert_id, {"note": "n" * 2001})

    assert_problem(response, 422, "note")
    assert stored_alerts(client.application)[0].status is AlertStatus.OPEN


@pytest.mark.parametrize(
    "body",
    [
        {"note": "ok", "status": "acknowledged"},
        {"acknowledged_by": "someone"},
        {"dose": "25 mg"},
    ],
    ids=["status", "acknowledged_by", "dose"],
)
def test_unknown_fields_are_refused(client, world, alert_id, body):
    response = acknowledge(client, world.clinician, alert_id, body)

    (field,) = [key for key in body if key != "note"]
    assert_problem(response, 422, field)
    (row,) = stored_alerts(client.application)
    assert row.status is AlertStatus.OPEN
    assert row.note is None


def test_a_note_that_is_not_text_is_refused(client, world, alert_id):
    response = acknowledge(client, world.clinician, alert_id, {"note": 42})

    assert_problem(response, 422, "note")


def test_acknowledging_twice_is_a_conflict_and_keeps_the_first(client, world, alert_id):
    join_care_team(client, world, world.lone_clinician)
    first = acknowledge(client, world.clinician, alert_id, {"note": "First: called."})
    assert first.status_code == 200, first.get_json()

    again = acknowledge(client, world.lone_clinician, alert_id, {"note": "Second: also called."})
    same_again = acknowledge(client, world.clinician, alert_id, {"note": "Once more."})

    assert_problem(again, 409)
    assert_problem(same_again, 409)
    (row,) = stored_alerts(client.application)
    assert str(row.acknowledged_by_id) == world.clinician.id
    assert row.note == "First: called."
    (listed,) = list_all(client, world.clinician.headers, status="acknowledged")
    assert listed == first.get_json()


def test_any_care_team_clinician_may_acknowledge(client, world, alert_id):
    join_care_team(client, world, world.lone_clinician)

    response = acknowledge(client, world.lone_clinician, alert_id, {"note": "Covering."})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["acknowledged_by"] == world.lone_clinician.id


@pytest.mark.parametrize("role", ["patient", "admin", "other_patient"])
def test_patients_and_admins_may_not_acknowledge(client, world, alert_id, role):
    response = acknowledge(client, getattr(world, role), alert_id, {"note": "Seen it."})

    assert_problem(response, 403)
    (row,) = stored_alerts(client.application)
    assert row.status is AlertStatus.OPEN
    assert row.acknowledged_by_id is None


@pytest.mark.parametrize("outsider", ["other_clinician", "lone_clinician"])
def test_an_outside_clinician_gets_the_same_404_as_for_no_alert(client, world, alert_id, outsider):
    actor = getattr(world, outsider)

    hidden = acknowledge(client, actor, alert_id, {"note": "x"})
    missing = acknowledge(client, actor, random_id(), {"note": "x"})

    assert_problem(hidden, 404)
    assert_problem(missing, 404)
    assert hidden.get_json() == missing.get_json()
    assert stored_alerts(client.application)[0].status is AlertStatus.OPEN


def test_an_acknowledged_alert_of_another_team_is_still_404_not_409(client, world):
    theirs = severe_score(client, world.other_patient)["alerts"][0]["id"]
    assert acknowledge(client, world.other_clinician, theirs).status_code == 200

    hidden = acknowledge(client, world.clinician, theirs)
    missing = acknowledge(client, world.clinician, random_id())

    assert_problem(hidden, 404)
    assert hidden.get_json() == missing.get_json()


def test_a_clinician_removed_from_the_care_team_can_no_longer_acknowledge(client, world, alert_id):
    join_care_team(client, world, world.lone_clinician)
    left = client.delete(
        f"/api/v1/patients/{world.patient.id}/care-team/{world.lone_clinician.id}",
        headers=world.clinician.headers,
    )
    assert left.status_code in (200, 204), left.get_json()

    assert_problem(acknowledge(client, world.lone_clinician, alert_id), 404)


def test_a_malformed_alert_id_is_not_found(client, world):
    response = client.post(
        "/api/v1/alerts/not-a-uuid/acknowledge", headers=world.clinician.headers, json={}
    )

    assert_problem(response, 404)


def test_acknowledging_needs_a_token(client, world, alert_id):
    assert_problem(client.post(ack_url(alert_id), json={}), 401)


def test_acknowledging_one_alert_leaves_the_others_open(client, world):
    body = suicidal_ideation(client, world.patient)
    other = severe_score(client, world.patient)["alerts"][0]["id"]

    response = acknowledge(client, world.clinician, body["alerts"][0]["id"])

    assert response.status_code == 200
    assert [a["id"] for a in list_all(client, world.clinician.headers)] == [other]
    acknowledged = list_all(client, world.clinician.headers, status="acknowledged")
    assert [a["id"] for a in acknowledged] == [body["alerts"][0]["id"]]
    assert acknowledged[0]["status"] == "acknowledged"
    assert acknowledged[0]["acknowledged_by"] == world.clinician.id
