"""Session reminders, 24 hours and 1 hour before a scheduled session, to the patient and the
clinician: each once, and none whose time had passed when the session was booked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from flask import Flask
from sqlalchemy import select

from telehealth.extensions import db
from telehealth.outbound.models import EventType, OutboxEvent
from telehealth.worker.reminders import send_session_reminders
from tests.factories import sign_in
from tests.sessions.helpers import SESSIONS, session_body, session_url, utc

START = utc(2026, 12, 10, 13, 0)


def remind(app: Flask) -> int:
    with app.app_context(), db.begin() as session:
        return send_session_reminders(session)


def reminders(app: Flask) -> list[tuple[int, list[str]]]:
    with app.app_context():
        events = db.session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.type == EventType.SESSION_REMINDER)
            .order_by(OutboxEvent.created_at)
        ).all()
    return [(e.data["hours_before"], e.recipients) for e in events]


def book(app: Flask, client: Any, world: Any, start: Any = START) -> str:
    clinician = sign_in(app, world.clinician.user)
    body = session_body(world.patient.id, scheduled_start=start.isoformat())
    response = client.post(SESSIONS, json=body, headers=clinician.headers)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def test_a_day_and_an_hour_before_each_once_to_patient_and_clinician(app, client, world):
    with time_machine.travel(START - timedelta(days=3), tick=False) as clock:
        book(app, client, world)
        clock.move_to(START - timedelta(hours=24, seconds=1))
        assert remind(app) == 0
        clock.move_to(START - timedelta(hours=24))
        assert remind(app) == 1
        assert remind(app) == 0
        clock.move_to(START - timedelta(hours=1))
        assert remind(app) == 1
        clock.move_to(START - timedelta(minutes=1))
        assert remind(app) == 0

    both = sorted([world.patient.id, world.clinician.id])
    assert reminders(app) == [(24, both), (1, both)]


def test_a_session_booked_within_a_day_gets_only_the_hour_reminder(app, client, world):
    with time_machine.travel(START - timedelta(hours=5), tick=False) as clock:
        book(app, client, world)
        assert remind(app) == 0
        clock.move_to(START - timedelta(minutes=30))
        assert remind(app) == 1

    assert [hours for hours, _ in reminders(app)] == [1]


def test_a_cancelled_session_is_not_reminded(app, client, world):
    with time_machine.travel(START - timedelta(days=3), tick=False) as clock:
        session_id = book(app, client, world)
        clinician = sign_in(app, world.clinician.user)
        cancelled = client.post(
            session_url(session_id, "cancel"), json={"reason": "Moved."}, headers=clinician.headers
        )
        assert cancelled.status_code == 200
        clock.move_to(START - timedelta(hours=1))
        assert remind(app) == 0
