"""The worker's audit anchor also goes out as an `audit.anchor` webhook event: the clinic's own
system keeps the signed head outside the database, and the body it received is an anchor file
`flask audit verify --anchor` reads."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from telehealth.audit import chain
from telehealth.extensions import db
from telehealth.outbound.dispatch import fan_out
from telehealth.outbound.models import Delivery, EventType, Notification, OutboxEvent
from telehealth.webhooks.channel import CHANNEL
from telehealth.worker import checks
from tests.webhooks.helpers import make_webhook


@pytest.fixture
def once_per_period(monkeypatch: pytest.MonkeyPatch) -> None:
    claimed: set[tuple[str, int]] = set()

    def claim_once(name: str, slot: int) -> bool:
        fresh = (name, slot) not in claimed
        claimed.add((name, slot))
        return fresh

    monkeypatch.setattr(checks, "claim_slot", claim_once)


def anchor_events(app) -> list[OutboxEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(OutboxEvent).where(OutboxEvent.type == EventType.AUDIT_ANCHOR)
            )
        )


def test_the_anchor_is_published_once_per_period_as_an_event(app, world, once_per_period):
    with app.app_context():
        for _ in range(3):
            with db.begin() as session:
                checks.anchor_audit_chain(session)

    [event] = anchor_events(app)
    assert chain.check_anchor(event.data, key=app.config["AUDIT_KEY"]) == event.data
    assert event.recipients == []  # for the clinic's systems; nobody's inbox
    assert set(event.data) == {"sequence", "event_id", "hash", "at", "unkeyed_through", "mac"}


def test_a_subscribed_webhook_receives_a_signed_anchor_that_verify_accepts(
    app, client, world, receiver, once_per_period, tmp_path
):
    # A read of a record: one audit event, so the head is a real event.
    own_record = client.get(f"/api/v1/patients/{world.patient.id}", headers=world.patient.headers)
    assert own_record.status_code == 200
    webhook_id, secret = make_webhook(app, receiver.url, ["audit.anchor"])
    make_webhook(app, receiver.url, ["alert.raised"])  # not subscribed: hears nothing
    with app.app_context():
        with db.begin() as session:
            checks.anchor_audit_chain(session)
        [event] = anchor_events(app)
        with db.begin() as session:
            [delivery_id] = fan_out(session, event.id)
        with db.begin() as session:
            delivery = session.get_one(Delivery, delivery_id)
            assert delivery.target_id == webhook_id
            assert session.scalars(select(Notification)).all() == []
            post = CHANNEL.prepare(session, delivery, session.get_one(OutboxEvent, event.id))
        assert post().delivered

    [request] = receiver.wait_for(1)
    body = Webhook(secret).verify(request.body, request.headers)
    assert body["type"] == "audit.anchor"
    assert body["data"]["sequence"] >= 1
    assert uuid.UUID(body["data"]["event_id"])
    received = tmp_path / "anchors.jsonl"
    received.write_bytes(request.body + b"\n")

    outcome = app.test_cli_runner().invoke(args=["audit", "verify", "--anchor", str(received)])

    assert outcome.exit_code == 0, outcome.output
    assert f"anchored head #{body['data']['sequence']} present" in outcome.output


def test_a_forged_anchor_body_is_refused_by_verify(app, world, tmp_path):
    with app.app_context():
        head = chain.anchor(db.session, key="another key, not the clinic's " * 2)
    forged = tmp_path / "anchors.jsonl"
    forged.write_text('{"type": "audit.anchor", "data": ' + json.dumps(head) + "}\n")

    outcome = app.test_cli_runner().invoke(args=["audit", "verify", "--anchor", str(forged)])

    assert outcome.exit_code == 1
    assert "audit anchor REFUSED" in outcome.output
