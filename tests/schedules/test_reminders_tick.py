"""The scheduler's reminders on a frozen clock: each once however many workers tick, a late one
(not two) after the worker was down, none with reminders switched off or for a deactivated
patient, and what they tell the patient (an inbox entry; identifiers only)."""

from __future__ import annotations

from datetime import date, time

from flask import Flask
from sqlalchemy import select

from telehealth.extensions import db
from telehealth.outbound.dispatch import fan_out
from telehealth.outbound.models import EventType, OutboxEvent
from tests.factories import frozen, sign_in
from tests.schedules.schedule_helpers import (
    events,
    item,
    missed_alerts,
    plan,
    put_plan,
    reminders,
    tick,
    utc,
)

ZONE = "America/New_York"


def only_mood(client, clock, world, **options):
    put_plan(
        client,
        clock.headers(world.clinician),
        world.patient.id,
        plan(item("mood", starts_on="2026-12-02"), **options),
    )


def test_each_reminder_is_sent_once_however_often_the_scheduler_runs(app, client, world):
    with frozen(app, utc(2026, 12, 2, 12, 0)) as clock:
        only_mood(client, clock, world)
        clock.move_to(utc(2026, 12, 2, 13, 59))  # 08:59 in New York
        tick(app)
        assert reminders(app, world.patient, ZONE) == []

        clock.move_to(utc(2026, 12, 2, 14, 0))
        first = tick(app)  # two workers at the same moment
        second = tick(app)
        clock.move_to(utc(2026, 12, 2, 16, 0))
        tick(app)

    assert first[0] >= 1 and second == (0, 0)
    [sent] = reminders(app, world.patient, ZONE)
    assert (sent.instrument, sent.occurrence, sent.number, sent.at) == (
        "mood", date(2026, 12, 2), 1, time(9)
    )  # fmt: skip
    [event] = events(app, EventType.CHECKIN_DUE, world.patient)
    assert event.recipients == [world.patient.id]
    assert event.data == {
        "patient_id": world.patient.id,
        "instrument": "mood",
        "due_at": "2026-12-02T14:00:00+00:00",
        "reminder": 1,
    }


def test_a_worker_that_was_down_sends_one_late_reminder_not_two(app, client, world):
    with frozen(app, utc(2026, 12, 2, 12, 0)) as clock:
        only_mood(client, clock, world)
        clock.move_to(utc(2026, 12, 2, 19, 5))  # 14:05 in New York: both times have passed
        tick(app)
        tick(app)

    sent = reminders(app, world.patient, ZONE)
    assert [(r.number, r.at) for r in sent] == [(2, time(14, 5))]


def test_none_with_reminders_off_but_silence_still_raises_its_alert(app, client, world):
    with frozen(app, utc(2026, 12, 2, 12, 0)) as clock:
        only_mood(client, clock, world, reminders=False)
        for day in range(2, 6):
            for hour in (14, 18, 23):
                clock.move_to(utc(2026, 12, day, hour, 0))
                tick(app)

    assert reminders(app, world.patient, ZONE) == []
    assert events(app, EventType.CHECKIN_DUE, world.patient) == []
    assert len(missed_alerts(app, world.patient)) == 1


def test_a_deactivated_patient_gets_no_reminder_and_raises_nothing(app, client, world):
    with frozen(app, utc(2026, 12, 2, 12, 0)) as clock:
        only_mood(client, clock, world)
        admin = sign_in(app, world.admin.user)
        response = client.post(
            f"/api/v1/users/{world.patient.id}/deactivate", headers=admin.headers
        )
        assert response.status_code == 200, response.get_json()
        for day in range(2, 7):
            clock.move_to(utc(2026, 12, day, 14, 0))
            tick(app)

    assert reminders(app, world.patient, ZONE) == []
    assert missed_alerts(app, world.patient) == []


def fan_out_everything(app: Flask) -> None:
    with app.app_context(), db.begin() as session:
        for event_id in session.scalars(select(OutboxEvent.id)).all():
            fan_out(session, event_id)


def test_the_patient_finds_the_reminder_in_their_inbox_and_nobody_else_does(app, client, world):
    with frozen(app, utc(2026, 12, 2, 12, 0)) as clock:
        only_mood(client, clock, world)
        clock.move_to(utc(2026, 12, 2, 14, 0))
        tick(app)
        fan_out_everything(app)
        inbox = client.get("/api/v1/me/notifications", headers=clock.headers(world.patient))
        team = client.get("/api/v1/me/notifications", headers=clock.headers(world.clinician))

    entries = [e for e in inbox.get_json()["items"] if e["kind"] == "checkin.due"]
    assert len(entries) == 1
    assert entries[0]["title"] == "A check-in is due"
    assert not [e for e in team.get_json()["items"] if e["kind"] == "checkin.due"]


def test_a_reminder_missed_on_its_day_is_not_sent_at_night_nor_days_later(app, client, world):
    """A weekly item stays due for a week, but its reminders belong to its own local day: a
    worker that was down that day, or a plan moved to an earlier weekday, sends none later."""
    with frozen(app, utc(2026, 12, 2, 12, 0)) as clock:
        put_plan(
            client,
            clock.headers(world.clinician),
            world.patient.id,
            plan(item("PHQ-9", "week", "09:00", weekday=1, starts_on="2026-11-24")),
        )  # Tuesdays; the 1st's occurrence is due until the 8th
        for moment in (utc(2026, 12, 2, 15), utc(2026, 12, 4, 15)):  # Wednesday, Friday
            clock.move_to(moment)
            tick(app)
        # Down all Tuesday the 8th until 22:00 local (03:00 UTC on the 9th): quiet hours.
        clock.move_to(utc(2026, 12, 9, 3, 0))
        tick(app)
        clock.move_to(utc(2026, 12, 9, 15, 0))
        tick(app)
        assert reminders(app, world.patient, ZONE) == []

        # Tuesday the 15th, a running worker: 09:00 and 13:00.
        for hour in range(13, 24):
            clock.move_to(utc(2026, 12, 15, hour, 0))
            tick(app)

    assert [(r.occurrence, r.number, r.at) for r in reminders(app, world.patient, ZONE)] == [
        (date(2026, 12, 15), 1, time(9)),
        (date(2026, 12, 15), 2, time(13)),
    ]
