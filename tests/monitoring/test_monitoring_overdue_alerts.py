"""Overdue checkpoints become `checkpoint_overdue` alerts when alerts are listed: one per
checkpoint of a session (a session can have several overdue at once), only for checkpoints
really overdue, only for the caller's patients. Each names its session as its source (which
`GET /sessions/{id}` opens), its `session_id` and its `checkpoint`."""

from __future__ import annotations

from datetime import timedelta

from tests.monitoring.helpers import (
    API,
    SCHEDULED_START_UTC,
    alerts,
    create_note,
    medication_url,
    schedule_session,
)

GRACE = timedelta(minutes=15)
SECOND = timedelta(seconds=1)
TAKEN_AT = SCHEDULED_START_UTC + timedelta(minutes=5)


def read_alerts(client, clock, actor, **query):
    response = client.get(f"{API}/alerts", headers=clock.headers(actor), query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def overdue_rows(app):
    return alerts(app, kind="checkpoint_overdue")


def take_medication(client, clock, world, session_id):
    """At TAKEN_AT: the pre-session note, the session started, the medication taken."""
    clock.move_to(TAKEN_AT)
    create_note(
        client,
        clock.headers(world.clinician),
        session_id,
        checkpoint="pre_session",
        observed_at=(TAKEN_AT - timedelta(minutes=1)).isoformat(),
    )
    started = client.post(
        f"{API}/sessions/{session_id}/start", headers=clock.headers(world.clinician), json={}
    )
    assert started.status_code == 200, started.get_json()
    taken = client.post(medication_url(session_id), headers=clock.headers(world.patient), json={})
    assert taken.status_code == 200, taken.get_json()


def test_an_overdue_checkpoint_raises_one_alert_naming_its_session(app, client, world, clock):
    session_id = schedule_session(
        client, world.clinician, world.patient, headers=clock.headers(world.clinician)
    )
    clock.move_to(SCHEDULED_START_UTC + GRACE)
    read_alerts(client, clock, world.clinician)
    assert overdue_rows(app) == []  # due, within grace

    clock.move_to(SCHEDULED_START_UTC + GRACE + SECOND)
    listed = read_alerts(client, clock, world.clinician)
    read_alerts(client, clock, world.clinician)  # reading again raises nothing new

    [alert] = overdue_rows(app)
    assert "pre_session" in alert.reason
    assert str(alert.patient_id) == world.patient.id
    [item] = listed
    assert item["kind"] == "checkpoint_overdue"
    assert item["priority"] == 3
    assert item["source"] == {"type": "session", "id": session_id}
    assert (item["source_type"], item["source_id"]) == ("session", session_id)
    assert item["session_id"] == session_id
    assert item["checkpoint"] == "pre_session"
    opened = client.get(f"{API}/sessions/{session_id}", headers=clock.headers(world.clinician))
    assert opened.status_code == 200, opened.get_json()
    assert opened.get_json()["id"] == session_id


def test_each_overdue_checkpoint_after_medication_is_raised(app, client, world, clock):
    session_id = schedule_session(
        client, world.clinician, world.patient, headers=clock.headers(world.clinician)
    )
    take_medication(client, clock, world, session_id)

    clock.move_to(TAKEN_AT + timedelta(minutes=40) + GRACE + SECOND)
    read_alerts(client, clock, world.clinician)
    [plus_40] = overdue_rows(app)  # +40 min only; pre-session done
    assert plus_40.checkpoint.value == "plus_40_min"

    clock.move_to(TAKEN_AT + timedelta(minutes=120) + GRACE + SECOND)
    read_alerts(client, clock, world.clinician)
    reasons = sorted(alert.reason for alert in overdue_rows(app))
    assert len(reasons) == 2
    assert "end_of_session" in reasons[0]
    assert "plus_40_min" in reasons[1]


def test_two_overdue_checkpoints_of_one_session_are_two_alerts_raised_once(
    app, client, world, clock
):
    session_id = schedule_session(
        client, world.clinician, world.patient, headers=clock.headers(world.clinician)
    )
    take_medication(client, clock, world, session_id)
    clock.move_to(TAKEN_AT + timedelta(minutes=120) + GRACE + SECOND)

    first = read_alerts(client, clock, world.clinician)
    again = read_alerts(client, clock, world.clinician)
    by_admin = read_alerts(client, clock, world.admin)

    rows = overdue_rows(app)
    assert sorted(row.checkpoint.value for row in rows) == ["end_of_session", "plus_40_min"]
    assert {str(row.source_id) for row in rows} == {session_id}
    assert {row.occurrence for row in rows} == {"end_of_session", "plus_40_min"}
    assert again == first
    assert by_admin == first
    assert sorted(item["checkpoint"] for item in first) == ["end_of_session", "plus_40_min"]
    assert all(item["source"] == {"type": "session", "id": session_id} for item in first)
    assert all(item["session_id"] == session_id for item in first)


def test_an_admin_listing_alerts_raises_overdue_checkpoints_too(app, client, world, clock):
    session_id = schedule_session(
        client, world.clinician, world.patient, headers=clock.headers(world.clinician)
    )
    clock.move_to(SCHEDULED_START_UTC + GRACE + SECOND)

    [item] = read_alerts(client, clock, world.admin)

    assert item["source"] == {"type": "session", "id": session_id}
    assert [str(row.id) for row in overdue_rows(app)] == [item["id"]]


def test_other_teams_and_closed_sessions_raise_nothing(app, client, world, clock):
    session_id = schedule_session(
        client, world.clinician, world.patient, headers=clock.headers(world.clinician)
    )
    clock.move_to(SCHEDULED_START_UTC + GRACE + SECOND)
    assert read_alerts(client, clock, world.other_clinician) == []
    assert overdue_rows(app) == []

    cancelled = client.post(
        f"{API}/sessions/{session_id}/no-show", headers=clock.headers(world.clinician), json={}
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    assert read_alerts(client, clock, world.clinician) == []
    assert read_alerts(client, clock, world.admin) == []
    assert overdue_rows(app) == []
