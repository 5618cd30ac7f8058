"""The email channel: registered, who an event's email goes to (only with SMTP configured, only
active users), what `prepare` refuses for good, and sends that succeed or fail against a real
SMTP server."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from telehealth.accounts.models import Role
from telehealth.accounts.service import deactivate
from telehealth.db import utcnow
from telehealth.extensions import db
from telehealth.mail.channel import EmailChannel, channel
from telehealth.mail.messages import REMINDER_SUBJECT, REVIEW_SUBJECT
from telehealth.outbound.channels import Sent
from telehealth.outbound.models import Channel, Delivery, DeliveryStatus, EventType, OutboxEvent
from telehealth.outbound.registry import CHANNELS
from tests.factories import make_patient, make_user
from tests.mail.mail_helpers import deliver_emails, email_delivery, emit_event, prepared
from tests.mail.smtp_server import closed_port

PUBLIC_URL = "https://app.clinic.example"


def reminder(app, recipients):
    return emit_event(
        app,
        EventType.SESSION_REMINDER,
        {"session_id": uuid.uuid4(), "patient_id": uuid.uuid4(), "hours_before": 24},
        recipients,
    )


def targets(app, event_id):
    with app.app_context(), db.begin() as session:
        return channel.targets(session, session.get_one(OutboxEvent, event_id))


def test_the_channel_is_registered_at_app_start(app):
    assert CHANNELS[Channel.EMAIL] is channel
    assert isinstance(channel, EmailChannel)
    assert channel.name is Channel.EMAIL


def test_retry_delays_default_and_are_read_when_asked(app, monkeypatch):
    with app.app_context():
        assert channel.retry_delays == [
            timedelta(seconds=30),
            timedelta(minutes=2),
            timedelta(minutes=10),
            timedelta(hours=1),
            timedelta(hours=6),
        ]
        monkeypatch.setitem(app.config, "MAIL_RETRY_DELAYS_SECONDS", [1, 2.5])
        assert channel.retry_delays == [timedelta(seconds=1), timedelta(seconds=2.5)]


def test_without_smtp_there_are_no_email_deliveries(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", None)
    event_id = reminder(app, [world.clinician.user.id, world.patient.user.id])

    assert targets(app, event_id) == []
    assert deliver_emails(app) == []


def test_with_smtp_every_active_recipient_is_a_target(app, world, email_on):
    gone = uuid.uuid4()
    leaving = make_user(app, Role.CLINICIAN)
    with app.app_context(), db.begin() as session:
        deactivate(session, world.admin.user, leaving.id)
    event_id = reminder(app, [world.clinician.user.id, world.patient.user.id, leaving.id, gone])

    assert targets(app, event_id) == sorted([world.clinician.user.id, world.patient.user.id])


def test_an_event_with_no_recipients_has_no_targets(app, email_on):
    assert targets(app, reminder(app, [])) == []


def test_a_reminder_reaches_each_recipient(app, world, email_on, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC_URL)
    session_id = uuid.uuid4()
    emit_event(
        app,
        EventType.SESSION_REMINDER,
        {"session_id": session_id, "patient_id": world.patient.user.id, "hours_before": 1},
        [world.clinician.user.id, world.patient.user.id],
    )

    deliveries = deliver_emails(app)

    assert {d.status for d in deliveries} == {DeliveryStatus.DELIVERED}
    assert {d.attempts for d in deliveries} == {1}
    mails = email_on.wait_for(2)
    assert sorted(m.to for m in mails) == sorted(
        [world.clinician.user.email, world.patient.user.email]
    )
    for mail in mails:
        assert mail.subject == REMINDER_SUBJECT
        assert f"{PUBLIC_URL}/sessions/{session_id}" in mail.body
        assert mail.message["From"] == app.config["MAIL_FROM"]
        assert mail.message["Auto-Submitted"] == "auto-generated"
    assert {m.message["Message-ID"] for m in mails} == {f"<{d.id}@localhost>" for d in deliveries}


def test_an_inactive_or_gone_recipient_fails_for_good_at_once(app, world, email_on):
    leaving = make_user(app, Role.CLINICIAN)
    event_id = reminder(app, [leaving.id])
    to_leaving = email_delivery(app, event_id, leaving.id)
    to_nobody = email_delivery(app, event_id, uuid.uuid4())
    with app.app_context(), db.begin() as session:
        deactivate(session, world.admin.user, leaving.id)

    for delivery_id in (to_leaving, to_nobody):
        sent = prepared(app, delivery_id)()
        assert sent == Sent(False, error="the recipient is inactive or gone", final=True)
    assert email_on.messages == []


def test_smtp_switched_off_after_fan_out_fails_for_good(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", None)
    event_id = reminder(app, [world.clinician.user.id])
    delivery_id = email_delivery(app, event_id, world.clinician.user.id)

    sent = prepared(app, delivery_id)()

    assert sent == Sent(False, error="email is not configured", final=True)


def test_a_server_that_is_down_is_a_failed_attempt_retried_later(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{closed_port()}")
    reminder(app, [world.clinician.user.id])

    [delivery] = deliver_emails(app)

    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_error == "the server refused the connection"
    assert world.clinician.user.email not in delivery.last_error
    assert delivery.next_attempt_at >= utcnow() + timedelta(seconds=25)


def test_the_send_says_why_it_failed_without_an_address(app, world, email_on):
    email_on.refuse_recipients_with = 550
    event_id = reminder(app, [world.clinician.user.id])
    delivery_id = email_delivery(app, event_id, world.clinician.user.id)

    sent = prepared(app, delivery_id)()

    assert sent == Sent(False, error="the server refused the recipient (550)")
    assert email_on.messages == []


def test_a_slow_server_is_given_up_on_after_the_timeout(app, world, monkeypatch):
    from tests.mail.smtp_server import silent_server

    monkeypatch.setitem(app.config, "SMTP_TIMEOUT_SECONDS", 0.3)
    with silent_server() as port:
        monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{port}")
        delivery_id = email_delivery(
            app, reminder(app, [world.clinician.user.id]), world.clinician.user.id
        )
        sent = prepared(app, delivery_id)()

    assert sent == Sent(False, error="the server did not answer in time")


def test_the_last_failed_retry_fails_the_delivery(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{closed_port()}")
    monkeypatch.setitem(app.config, "MAIL_RETRY_DELAYS_SECONDS", [0.001])
    reminder(app, [world.clinician.user.id])
    [delivery] = deliver_emails(app)
    assert delivery.status is DeliveryStatus.PENDING

    from telehealth.outbound.delivery import deliver

    with app.app_context():
        with db.begin() as session:  # due now
            session.get_one(Delivery, delivery.id).next_attempt_at = utcnow()
        assert deliver(delivery.id) is None
        with db.begin() as session:
            final = session.scalars(select(Delivery).where(Delivery.id == delivery.id)).one()
    assert final.status is DeliveryStatus.FAILED
    assert final.attempts == 2


def test_a_clinician_alert_email_says_review(app, world, email_on):
    patient = make_patient(app, world.clinician.user, name="Quinn Private")
    alert_id = uuid.uuid4()
    emit_event(
        app,
        EventType.ALERT_RAISED,
        {"alert_id": alert_id, "patient_id": patient.id, "kind": "suicidal_ideation"},
        [world.clinician.user.id],
    )

    deliver_emails(app)

    [mail] = email_on.wait_for(1)
    assert mail.subject == REVIEW_SUBJECT
    assert str(alert_id) in mail.body
    assert "Quinn" not in mail.text
    assert "suicid" not in mail.text.lower()
