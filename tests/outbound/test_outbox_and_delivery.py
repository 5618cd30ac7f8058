"""The outbox and the delivery runner, with a fake channel: what a change writes, how an event
fans out once, and how a delivery is claimed, retried and recorded exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from telehealth.extensions import db
from telehealth.outbound import delivery as runner
from telehealth.outbound.channels import Sent
from telehealth.outbound.dispatch import fan_out
from telehealth.outbound.events import emit
from telehealth.outbound.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    EventType,
    Notification,
    OutboxEvent,
)
from telehealth.outbound.registry import CHANNELS
from telehealth.worker.queue import huey
from tests.alerts.alert_helpers import suicidal_ideation
from tests.conftest import SUITE_NOW


@dataclass
class FakeChannel:
    """A channel that answers what the test queues, and counts what it was asked to send."""

    name: Channel = Channel.WEBHOOK
    retry_delays: list[timedelta] = field(
        default_factory=lambda: [timedelta(seconds=10), timedelta(seconds=60)]
    )
    answers: list[Sent] = field(default_factory=list)
    sent: list[uuid.UUID] = field(default_factory=list)
    target: uuid.UUID = field(default_factory=uuid.uuid4)

    def targets(self, session: Any, event: OutboxEvent) -> list[uuid.UUID]:
        return [self.target]

    def prepare(self, session: Any, delivery: Delivery, event: OutboxEvent) -> Callable[[], Sent]:
        def send() -> Sent:
            self.sent.append(event.id)
            return self.answers.pop(0) if self.answers else Sent(True, 200)

        return send


@pytest.fixture
def channel(monkeypatch: pytest.MonkeyPatch) -> FakeChannel:
    fake = FakeChannel()
    monkeypatch.setattr("telehealth.outbound.registry.CHANNELS", {fake.name: fake})
    monkeypatch.setattr("telehealth.outbound.dispatch.CHANNELS", {fake.name: fake})
    monkeypatch.setattr("telehealth.outbound.delivery.CHANNELS", {fake.name: fake})
    return fake


@pytest.fixture
def queue() -> Iterator[Any]:
    huey.flush()
    yield huey
    huey.flush()


def one_event(app: Flask, recipients: list[uuid.UUID] = ()) -> uuid.UUID:  # type: ignore[assignment]
    with app.app_context(), db.begin() as session:
        return emit(session, EventType.CHECKIN_SUBMITTED, {"checkin_id": uuid.uuid4()}, recipients)


def deliveries(app: Flask) -> list[Delivery]:
    with app.app_context():
        return list(db.session.scalars(select(Delivery).order_by(Delivery.created_at)))


# --- what a change writes -------------------------------------------------------------------


def test_a_suicidal_ideation_check_in_writes_alert_raised_for_the_care_team(app, client, world):
    submitted = suicidal_ideation(client, world.patient)

    with app.app_context():
        events = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.type)).all()
    raised = [e for e in events if e.type is EventType.ALERT_RAISED]
    assert len(raised) == 1
    (alert,) = submitted["alerts"]
    assert raised[0].data["alert_id"] == alert["id"]
    assert raised[0].data["kind"] == "suicidal_ideation"
    assert raised[0].data["priority"] == 1
    assert raised[0].recipients == [world.clinician.id]
    assert {e.type for e in events} == {EventType.ALERT_RAISED, EventType.CHECKIN_SUBMITTED}


def test_events_carry_identifiers_and_codes_only(app, client, world):
    body = {
        "recorded_at": "2026-12-01T12:00:00Z",
        "mood": 2,
        "note": "SENTINEL-note",
        "instruments": {"PHQ-9": [3, 3, 3, 3, 3, 3, 3, 3, 3]},
    }
    answered = client.post("/api/v1/checkins", headers=world.patient.headers, json=body)
    assert answered.status_code == 201, answered.get_json()

    with app.app_context():
        data = [e.data for e in db.session.scalars(select(OutboxEvent))]
    text = repr(data)
    assert "SENTINEL" not in text
    assert "Pat Able" not in text
    assert "answers" not in text and "total" not in text


def test_committed_events_are_handed_to_the_queue_and_refused_requests_write_none(
    app, client, world, queue
):
    bad = client.post(
        "/api/v1/checkins", headers=world.patient.headers, json={"mood": 99, "recorded_at": "x"}
    )
    assert bad.status_code == 422
    assert queue.pending_count() == 0

    suicidal_ideation(client, world.patient)

    with app.app_context():
        written = db.session.scalar(select(func.count()).select_from(OutboxEvent))
    assert written == 2
    assert queue.pending_count() == 2  # one dispatch task per event


# --- fan-out ----------------------------------------------------------------------------------


def test_an_event_fans_out_once_into_inbox_entries_and_deliveries(app, world, channel):
    event_id = one_event(app, [world.clinician.user.id, world.other_clinician.user.id])

    with app.app_context(), db.begin() as session:
        made = fan_out(session, event_id)
    with app.app_context(), db.begin() as session:
        again = fan_out(session, event_id)

    assert len(made) == 1 and again == []
    with app.app_context():
        inboxes = db.session.scalars(select(Notification.user_id)).all()
        fanned = db.session.get(OutboxEvent, event_id)
        assert fanned is not None and fanned.fanned_out_at is not None
    assert sorted(inboxes) == sorted([world.clinician.user.id, world.other_clinician.user.id])
    (made_delivery,) = deliveries(app)
    assert (made_delivery.channel, made_delivery.target_id) == (channel.name, channel.target)


def test_inactive_recipients_get_no_inbox_entry(app, client, world, channel):
    deactivated = client.post(
        f"/api/v1/users/{world.lone_clinician.id}/deactivate", headers=world.admin.headers
    )
    assert deactivated.status_code == 200
    event_id = one_event(app, [world.lone_clinician.user.id, world.clinician.user.id])

    with app.app_context(), db.begin() as session:
        fan_out(session, event_id)

    with app.app_context():
        assert db.session.scalars(select(Notification.user_id)).all() == [world.clinician.user.id]


# --- delivery -----------------------------------------------------------------------------------


def fanned(app: Flask, channel: FakeChannel) -> uuid.UUID:
    event_id = one_event(app)
    with app.app_context(), db.begin() as session:
        (delivery_id,) = fan_out(session, event_id)
    return delivery_id


def deliver(app: Flask, delivery_id: uuid.UUID) -> timedelta | None:
    with app.app_context():
        return runner.deliver(delivery_id)


def test_a_delivered_delivery_is_recorded_once_and_never_sent_again(app, channel):
    delivery_id = fanned(app, channel)

    assert deliver(app, delivery_id) is None
    assert deliver(app, delivery_id) is None

    (row,) = deliveries(app)
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    assert row.delivered_at is not None and row.leased_until is None
    assert len(channel.sent) == 1


def test_a_failed_attempt_waits_its_delay_then_retries_and_fails_for_good_after_the_last(
    app, channel
):
    channel.answers = [Sent(False, 500), Sent(False, error="timed out"), Sent(False, 503)]
    with time_machine.travel(SUITE_NOW, tick=False) as clock:
        delivery_id = fanned(app, channel)

        assert deliver(app, delivery_id) == timedelta(seconds=10)
        assert deliver(app, delivery_id) is None  # not due yet: not claimed, not sent
        assert len(channel.sent) == 1
        clock.shift(timedelta(seconds=10))
        assert deliver(app, delivery_id) == timedelta(seconds=60)
        clock.shift(timedelta(seconds=60))
        assert deliver(app, delivery_id) is None

    (row,) = deliveries(app)
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.FAILED, 3, 503)
    assert len(channel.sent) == 3


def test_a_final_failure_is_not_retried(app, channel):
    channel.answers = [Sent(False, error="endpoint deleted", final=True)]
    delivery_id = fanned(app, channel)

    assert deliver(app, delivery_id) is None

    (row,) = deliveries(app)
    assert (row.status, row.attempts, row.last_error) == (
        DeliveryStatus.FAILED,
        1,
        "endpoint deleted",
    )


def test_a_claimed_delivery_is_left_alone_until_its_lease_runs_out(app, channel):
    """A worker killed between claiming and recording: no other worker sends meanwhile; once
    the lease runs out another one does, and only its outcome is recorded."""
    with time_machine.travel(SUITE_NOW, tick=False) as clock:
        delivery_id = fanned(app, channel)
        with app.app_context(), db.begin() as session:
            dead_worker = runner.claim(session, delivery_id)
            assert dead_worker is not None
            dead_attempt = dead_worker.attempts

        assert deliver(app, delivery_id) is None
        assert channel.sent == []
        clock.shift(runner.LEASE + timedelta(seconds=1))
        assert deliver(app, delivery_id) is None
        # The dead worker's late outcome changes nothing.
        with app.app_context(), db.begin() as session:
            assert runner.record(session, dead_worker, dead_attempt, Sent(False, 500)) is None

    (row,) = deliveries(app)
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.DELIVERED, 2, 200)
    assert len(channel.sent) == 1


def test_a_channel_that_raises_leaves_the_delivery_pending_for_a_retry(app, channel):
    def broken(*_args: Any) -> Callable[[], Sent]:
        def send() -> Sent:
            raise RuntimeError("boom")

        return send

    channel.prepare = broken  # type: ignore[method-assign]
    delivery_id = fanned(app, channel)

    assert deliver(app, delivery_id) == timedelta(seconds=10)

    (row,) = deliveries(app)
    assert (row.status, row.attempts, row.last_error) == (
        DeliveryStatus.PENDING,
        1,
        "the send failed",
    )


def test_every_registered_channel_keeps_the_protocol(app):
    assert set(CHANNELS) == {Channel.EMAIL, Channel.WEBHOOK}
    for name, registered in CHANNELS.items():
        assert registered.name is name
        with app.app_context():
            delays = list(registered.retry_delays)
        assert delays == sorted(delays), "the waits grow"
        assert sum(delays, timedelta()) >= timedelta(minutes=5)


# --- the sweep ----------------------------------------------------------------------------------


def test_the_sweep_finds_what_the_queue_should_hold_once_it_has_waited_its_turn(app, channel):
    from telehealth.worker.checks import SWEEP_GRACE, due_work

    with time_machine.travel(SUITE_NOW, tick=False) as clock:
        waiting = one_event(app)
        fanned_id = fanned(app, channel)
        with app.app_context():
            assert due_work(db.session) == ([], [])
        clock.shift(SWEEP_GRACE)
        with app.app_context():
            events, due = due_work(db.session)
        assert (events, due) == ([waiting], [fanned_id])
        with app.app_context(), db.begin() as session:
            assert runner.claim(session, fanned_id) is not None
        with app.app_context():
            assert due_work(db.session)[1] == []  # a worker holds it
