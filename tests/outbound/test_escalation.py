"""Escalation, run as the worker's tick runs it, against a frozen clock: an open alert goes up
one level after each window of its kind, exactly once per level, and acknowledging stops it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from telehealth.alerts.models import SafetyAlert
from telehealth.extensions import db
from telehealth.outbound.models import EventType, OutboxEvent
from telehealth.worker.checks import escalate
from tests.alerts.alert_helpers import ack_url, severe_score, suicidal_ideation
from tests.conftest import SUITE_NOW
from tests.factories import sign_in

WINDOW = timedelta(minutes=15)  # suicidal_ideation's default


def run_escalation(app: Flask) -> list[SafetyAlert]:
    with app.app_context(), db.begin() as session:
        return escalate(session)


def escalations(app: Flask) -> list[tuple[str, int, list[str]]]:
    with app.app_context():
        events = db.session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.type == EventType.ALERT_ESCALATED)
            .order_by(OutboxEvent.created_at)
        ).all()
    return [(e.data["alert_id"], e.data["escalation_level"], e.recipients) for e in events]


@pytest.fixture
def clock(app: Flask) -> Any:
    with time_machine.travel(SUITE_NOW, tick=False) as traveller:
        yield traveller


def test_an_unacknowledged_alert_escalates_to_the_team_then_to_the_admins_once_each(
    app, client, world, clock
):
    (alert,) = suicidal_ideation(client, world.patient)["alerts"]

    clock.shift(WINDOW - timedelta(seconds=1))
    assert run_escalation(app) == []
    clock.shift(timedelta(seconds=1))
    assert [a.escalation_level for a in run_escalation(app)] == [1]
    assert run_escalation(app) == []  # a second tick, or a second worker: nothing more
    clock.shift(WINDOW - timedelta(seconds=1))
    assert run_escalation(app) == []
    clock.shift(timedelta(seconds=1))
    assert [a.escalation_level for a in run_escalation(app)] == [2]
    clock.shift(WINDOW * 10)
    assert run_escalation(app) == []

    assert escalations(app) == [
        (alert["id"], 1, [world.clinician.id]),
        (alert["id"], 2, [world.admin.id]),
    ]
    listed = client.get(
        "/api/v1/alerts", headers=sign_in(app, world.clinician.user).headers
    ).get_json()["items"]
    assert (listed[0]["escalation_level"], listed[0]["escalated_at"] is not None) == (2, True)


def test_acknowledging_stops_escalation(app, client, world, clock):
    (alert,) = suicidal_ideation(client, world.patient)["alerts"]
    clock.shift(WINDOW)
    run_escalation(app)
    acknowledged = client.post(
        ack_url(alert["id"]),
        headers=sign_in(app, world.clinician.user).headers,
        json={"note": "Called; safe."},
    )
    assert acknowledged.status_code == 200

    clock.shift(WINDOW * 4)

    assert run_escalation(app) == []
    assert [level for _id, level, _who in escalations(app)] == [1]


def test_each_kind_waits_its_own_window(app, client, world, clock):
    severe_score(client, world.patient)  # severe_score: 240 minutes

    clock.shift(WINDOW * 2)
    assert run_escalation(app) == []
    clock.shift(timedelta(minutes=240) - WINDOW * 2)
    assert [a.kind.value for a in run_escalation(app)] == ["severe_score"]


def test_the_windows_are_a_setting_with_fractions(app, client, world, clock, monkeypatch):
    windows = {**app.config["ALERT_ESCALATION_MINUTES"], "suicidal_ideation": 0.5}
    monkeypatch.setitem(app.config, "ALERT_ESCALATION_MINUTES", windows)
    suicidal_ideation(client, world.patient)

    clock.shift(timedelta(seconds=30))

    assert [a.escalation_level for a in run_escalation(app)] == [1]
