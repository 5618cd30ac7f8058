"""The webhook channel: who hears an event, the signed POST a real receiver on loopback gets,
what each answer means, and the deliveries log after the worker's runner has tried."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from standardwebhooks.webhooks import Webhook

from telehealth.db import utcnow
from telehealth.extensions import db
from telehealth.outbound import delivery as runner
from telehealth.outbound.channels import Sent
from telehealth.outbound.dispatch import fan_out
from telehealth.outbound.models import Channel, Delivery, EventType, OutboxEvent
from telehealth.outbound.registry import CHANNELS
from telehealth.webhooks import service
from telehealth.webhooks.channel import CHANNEL, DEFAULT_RETRY_DELAYS, USER_AGENT
from tests.webhooks.helpers import (
    WEBHOOKS,
    closed_port,
    make_delivery,
    make_event,
    make_webhook,
    resolver,
)
from tests.webhooks.receiver import Receiver

SIGNED_HEADERS = {"webhook-id", "webhook-timestamp", "webhook-signature"}


def send(app, delivery_id: str) -> Sent:
    """Prepare the delivery as the runner would (in a transaction), then send it (outside)."""
    with app.app_context():
        with db.begin() as session:
            delivery = session.get_one(Delivery, uuid.UUID(delivery_id))
            event = session.get_one(OutboxEvent, delivery.event_id)
            post = CHANNEL.prepare(session, delivery, event)
        return post()


def test_the_channel_is_registered_at_app_start(app):
    assert CHANNELS[Channel.WEBHOOK] is CHANNEL


# --- who hears an event ---------------------------------------------------------------------------


def test_an_event_goes_to_the_live_endpoints_subscribed_to_it(app):
    url = "http://127.0.0.1:9/hook"
    raised, _ = make_webhook(app, url, ["alert.raised"])
    everything, _ = make_webhook(app, url, ["*"])
    checkins, _ = make_webhook(app, url, ["checkin.submitted", "checkin.missed"])
    gone, _ = make_webhook(app, url, ["alert.raised"])
    with app.app_context(), db.begin() as session:
        service.delete_webhook(session, gone)

    with app.app_context(), db.begin() as session:
        alert = make_event(app, EventType.ALERT_RAISED)
        missed = make_event(app, EventType.CHECKIN_MISSED)
        reminder = make_event(app, EventType.SESSION_REMINDER)
        assert set(CHANNEL.targets(session, alert)) == {raised, everything}
        assert set(CHANNEL.targets(session, missed)) == {everything, checkins}
        assert CHANNEL.targets(session, reminder) == [everything]


def test_internal_events_never_go_to_a_webhook_even_one_subscribed_to_all(app):
    make_webhook(app, "http://127.0.0.1:9/hook", ["*"])
    invited = make_event(app, EventType.ACCOUNT_INVITED, {"user_id": str(uuid.uuid4())})

    with app.app_context(), db.begin() as session:
        assert CHANNEL.targets(session, invited) == []


# --- the signed POST ----------------------------------------------------------------------------


def test_a_delivery_is_a_signed_post_the_standard_webhooks_library_verifies(app, receiver):
    webhook_id, secret = make_webhook(app, receiver.url, ["alert.raised"])
    data = {"alert_id": str(uuid.uuid4()), "patient_id": str(uuid.uuid4()), "priority": 1}
    event = make_event(app, EventType.ALERT_RAISED, data)

    sent = send(app, make_delivery(app, webhook_id, event))

    assert sent == Sent(True, status_code=200)
    [request] = receiver.wait_for(1)
    assert (request.method, request.path) == ("POST", "/hook")
    verified = Webhook(secret).verify(request.body, request.headers)
    assert verified == request.json()
    assert set(verified) == {"type", "timestamp", "data"}
    assert verified["type"] == "alert.raised"
    assert verified["data"] == data  # identifiers and codes, exactly as the event holds them
    stamped = datetime.fromisoformat(verified["timestamp"])
    assert stamped.tzinfo is not None and abs(stamped - datetime.now(UTC)) < timedelta(minutes=1)
    assert request.headers["webhook-id"] == str(event.id)
    assert int(request.headers["webhook-timestamp"]) == int(stamped.timestamp())
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == USER_AGENT
    with pytest.raises(Exception, match="signature"):
        Webhook(make_webhook(app, receiver.url)[1]).verify(request.body, request.headers)


def test_a_failed_answer_is_retried_with_the_same_webhook_id(app, receiver):
    webhook_id, secret = make_webhook(app, receiver.url)
    receiver.answers.extend([500, 503])
    delivery_id = make_delivery(app, webhook_id)

    outcomes = [send(app, delivery_id) for _ in range(3)]

    assert outcomes == [
        Sent(False, status_code=500, error="answered 500"),
        Sent(False, status_code=503, error="answered 503"),
        Sent(True, status_code=200),
    ]
    requests = receiver.wait_for(3)
    assert len({request.headers["webhook-id"] for request in requests}) == 1
    for request in requests:
        Webhook(secret).verify(request.body, request.headers)


def test_a_redirect_is_not_followed_and_counts_as_a_failure(app, receiver):
    webhook_id, _ = make_webhook(app, receiver.url)
    receiver.answers.append(302)

    assert send(app, make_delivery(app, webhook_id)) == Sent(
        False, status_code=302, error="answered 302"
    )
    assert len(receiver.requests) == 1


def test_no_answer_in_time_is_a_failure_without_a_status(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 0.2)
    with Receiver(delay=1.0) as slow:
        webhook_id, _ = make_webhook(app, slow.url)

        sent = send(app, make_delivery(app, webhook_id))

        assert sent == Sent(False, error="no answer within 0.2 s")
        slow.wait_for(1)


def test_nobody_listening_is_a_failure_to_retry(app):
    webhook_id, _ = make_webhook(app, f"http://127.0.0.1:{closed_port()}/hook")

    assert send(app, make_delivery(app, webhook_id)) == Sent(False, error="could not connect")


def test_a_deleted_endpoint_fails_for_good_and_nothing_is_sent(app, client, world, receiver):
    webhook_id, _ = make_webhook(app, receiver.url)
    delivery_id = make_delivery(app, webhook_id)
    client.delete(f"{WEBHOOKS}/{webhook_id}", headers=world.admin.headers)

    assert send(app, delivery_id) == Sent(False, error="endpoint deleted", final=True)
    assert receiver.requests == []


def test_the_address_is_checked_again_before_each_send(app, receiver, monkeypatch):
    webhook_id, _ = make_webhook(app, receiver.url)  # loopback: allowed when it was made
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOOPBACK", False)

    assert send(app, make_delivery(app, webhook_id)) == Sent(
        False, error="address not allowed", final=True
    )
    assert receiver.requests == []


def test_a_name_that_moved_to_a_private_address_is_not_sent_to(app, receiver, monkeypatch):
    port = receiver.url.split(":")[2].split("/")[0]
    monkeypatch.setattr(
        "telehealth.webhooks.urls.getaddrinfo", resolver({"hooks.example.org": ["127.0.0.1"]})
    )
    webhook_id, _ = make_webhook(app, f"http://hooks.example.org:{port}/hook")
    monkeypatch.setattr(
        "telehealth.webhooks.urls.getaddrinfo", resolver({"hooks.example.org": ["10.0.0.7"]})
    )

    sent = send(app, make_delivery(app, webhook_id))

    assert sent == Sent(False, error="address not allowed", final=True)
    assert receiver.requests == []


# --- the retry schedule -------------------------------------------------------------------------


def test_retries_grow_and_last_more_than_a_day(app):
    with app.app_context():
        delays = CHANNEL.retry_delays

    assert [delay.total_seconds() for delay in delays] == list(DEFAULT_RETRY_DELAYS)
    assert delays == sorted(delays)
    assert sum(delays, timedelta()) >= timedelta(hours=24)


def test_the_retry_schedule_is_read_from_the_settings_when_used(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_DELAYS_SECONDS", [0, 0.5])

    with app.app_context():
        assert CHANNEL.retry_delays == [timedelta(0), timedelta(seconds=0.5)]


# --- through the worker's runner ----------------------------------------------------------------


def log(client, world, webhook_id) -> list[dict]:
    response = client.get(f"{WEBHOOKS}/{webhook_id}/deliveries", headers=world.admin.headers)
    assert response.status_code == 200
    return response.get_json()["items"]  # type: ignore[no-any-return]


def make_due(app, delivery_id: str) -> None:
    with app.app_context(), db.begin() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == uuid.UUID(delivery_id))
            .values(next_attempt_at=utcnow())
        )


def deliver(app, delivery_id: str) -> timedelta | None:
    with app.app_context():
        return runner.deliver(uuid.UUID(delivery_id))


def test_the_log_shows_each_attempt_until_the_receiver_recovers(app, client, world, receiver):
    webhook_id, secret = make_webhook(app, receiver.url, ["alert.raised"])
    event = make_event(app, EventType.ALERT_RAISED)
    with app.app_context(), db.begin() as session:
        session.execute(
            update(OutboxEvent).where(OutboxEvent.id == event.id).values(fanned_out_at=None)
        )
    with app.app_context(), db.begin() as session:
        made = fan_out(session, event.id)
        webhook_deliveries = [
            d for d in made if session.get_one(Delivery, d).channel is Channel.WEBHOOK
        ]
    [delivery_id] = [str(d) for d in webhook_deliveries]
    receiver.answers.append(500)

    wait = deliver(app, delivery_id)

    assert wait == timedelta(seconds=DEFAULT_RETRY_DELAYS[0])
    [entry] = log(client, world, webhook_id)
    assert entry["event_id"] == str(event.id)
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("pending", 1, 500)
    assert entry["last_error"] == "answered 500"
    assert entry["next_attempt_at"] is not None
    assert deliver(app, delivery_id) is None  # not due yet: nothing sent
    assert len(receiver.requests) == 1

    make_due(app, delivery_id)
    assert deliver(app, delivery_id) is None

    [entry] = log(client, world, webhook_id)
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == (
        "delivered",
        2,
        200,
    )
    assert entry["delivered_at"] is not None and entry["next_attempt_at"] is None
    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == str(event.id)
    Webhook(secret).verify(second.body, second.headers)


def test_after_the_last_retry_it_fails_and_a_manual_retry_sends_it_again(
    app, client, world, receiver, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_DELAYS_SECONDS", [0])
    monkeypatch.setattr("telehealth.worker.tasks.enqueue", lambda *args: None)
    webhook_id, _ = make_webhook(app, receiver.url)
    delivery_id = make_delivery(app, webhook_id)
    receiver.answers.extend([500, 500])

    assert deliver(app, delivery_id) == timedelta(0)
    assert deliver(app, delivery_id) is None
    [entry] = log(client, world, webhook_id)
    assert (entry["status"], entry["attempts"]) == ("failed", 2)

    retried = client.post(
        f"{WEBHOOKS}/{webhook_id}/deliveries/{delivery_id}/retry", headers=world.admin.headers
    )
    assert retried.status_code == 202
    deliver(app, delivery_id)  # what the queued task does

    [entry] = log(client, world, webhook_id)
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == (
        "delivered",
        3,
        200,
    )
    assert len(receiver.wait_for(3)) == 3


def test_a_deleted_endpoint_s_pending_delivery_ends_failed_without_retries(
    app, client, world, receiver
):
    webhook_id, _ = make_webhook(app, receiver.url)
    delivery_id = make_delivery(app, webhook_id)
    client.delete(f"{WEBHOOKS}/{webhook_id}", headers=world.admin.headers)

    assert deliver(app, delivery_id) is None

    with app.app_context():
        delivery = db.session.get_one(Delivery, uuid.UUID(delivery_id))
        assert (delivery.status.value, delivery.attempts) == ("failed", 1)
        assert delivery.last_error == "endpoint deleted"
    assert receiver.requests == []
