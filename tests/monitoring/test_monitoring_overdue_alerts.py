"""Overdue checkpoints become `checkpoint_overdue` alerts when the care team reads its alerts:
once per checkpoint, only for checkpoints really overdue, only for the care team's patients."""

from __future__ import annotations

from datetime import timedelta

from tests.monitoring.helpers import (
    SCHEDULED_START_UTC,
    alerts,
    create_note,
    medication_url,
    schedule_session,
)

GRACE = timedelta(minutes=15)
SECOND = timedelta(seconds=1)
TAKEN_AT = SCHEDULED_START_UTC + timedelta(minutes=5)


def read_alerts(client, clock, actor):
    response = client.get("/api/v1/alerts", headers=clock.headers(actor))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_an_overdue_checkpoint_raises_one_alert(app, client, world, clock):
    session_id = schedule_session(
        client, world.clinician, world.patient, headers=clock.headers(world.clinician)
    )
    clock.move_to(SCHEDULED_START_UTC + GRACE)
    read_alerts(client, clock, world.clinician)
    assert alerts(app, kind="checkpoint_overdue") == []  # due, within grace

    clock.move_to(SCHEDULED_START_UTC + GRACE + SECOND)
    listed = read_alerts(client, clock, world.clinician)
    read_alerts(client, clock, world.clinician)  # reading again raises nothing new

    [alert] = alerts(app, kind="checkpoint_overdue")
    assert "pre_session" in alert.reason
    assert str(alert.patient_id) == world.patient.id
    assert [item["kind"] for item in listed] == ["checkpoint_overdue"]
    assert session_id


def test_each_overdue_checkpoint_after_medication_is_raised(app, client, world, clock):
    session_id = schedule_session(
        client, world.clinician, world.patient, headers=clock.headers(world.clinician)
    )
    clock.move_to(TAKEN_AT)
    create_note(
        client,
        clock.headers(world.clinician),
        session_id,
        checkpoint="pre_session",
        observed_at=TAKEN_AT.isoformat(),
    )
    taken = client.post(medication_url(session_id), headers=clock.headers(world.patient), json={})
    assert taken.status_code == 200, taken.get_json()

    clock.move_to(TAKEN_AT + timedelta(minutes=40) + GRACE + SECOND)
    read_alerts(client, clock, world.clinician)
    assert len(alerts(app, kind="checkpoint_overdue")) == 1  # +40 min only; pre-session done

    clock.move_to(TAKEN_AT + timedelta(minutes=120) + GRACE + SECOND)
    read_alerts(client, clock, world.clinician)
    reasons = sorted(alert.reason for alert in alerts(app, kind="checkpoint_overdue"))
    assert len(reasons) == 2
    assert "end_of_session" in reasons[0]
    assert "plus_40_min" in reasons[1]


def test_other_teams_and_closed_sessions_raise_nothing(app, client, world, clock):
    session_id = schedule_session(
        client, world.clinician, world.patient, headers=clock.headers(world.clinician)
    )
    clock.move_to(SCHEDULED_START_UTC + GRACE + SECOND)
    assert read_alerts(client, clock, world.other_clinician) == []
    assert alerts(app, kind="checkpoint_overdue") == []

    cancelled = client.post(
        f"/api/v1/sessions/{session_id}/no-show", headers=clock.headers(world.clinician), json={}
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    assert read_alerts(client, clock, world.clinician) == []
    assert alerts(app, kind="checkpoint_overdue") == []
