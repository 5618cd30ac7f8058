"""Password reset emails, through the real email channel: asking writes an
`account.password_reset` event with no token in it; its email, sent by the worker, carries a
token minted when it is sent (only its hash is stored), in a link to
`{PUBLIC_URL}/reset-password`, and says nothing but that a reset was asked for. An unknown
address gets no event and no email."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from telehealth.accounts.models import Role
from telehealth.extensions import db
from telehealth.mail.messages import PASSWORD_RESET_SUBJECT, PasswordResetLink, compose
from telehealth.outbound.channels import Sent
from telehealth.outbound.models import DeliveryStatus, EventType
from telehealth.passwords.models import PasswordReset
from tests.factories import PASSWORD, frozen
from tests.mail.mail_helpers import deliver_emails, email_delivery, emit_event, events_of, prepared

API = "/api/v1"
RESET = f"{API}/auth/password-reset"
CONFIRM = f"{API}/auth/password-reset/confirm"
LOGIN = f"{API}/auth/login"
NEW_PASSWORD = "a brand new passphrase 7"
PUBLIC_URL = "https://app.clinic.example"
TOKEN_IN_LINK = re.compile(r"/reset-password\?token=([A-Za-z0-9_\-]+)")


def token_in(body: str) -> str:
    match = TOKEN_IN_LINK.search(body)
    assert match is not None, "no reset link in the email"
    return match.group(1)


def stored_hashes(app) -> list[str]:
    with app.app_context(), db.begin() as session:
        return list(session.scalars(select(PasswordReset.token_hash)).all())


def test_a_reset_email_lets_the_owner_choose_a_new_password(
    app, client, world, email_on, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC_URL)
    email = world.patient.user.email
    assert client.post(RESET, json={"email": email}).status_code == 202
    [event] = events_of(app, EventType.ACCOUNT_PASSWORD_RESET)
    assert event.data == {"user_id": world.patient.id}

    [delivery] = deliver_emails(app)

    assert delivery.status is DeliveryStatus.DELIVERED
    [mail] = email_on.wait_for(1)
    assert mail.envelope_to == [email]
    assert mail.subject == PASSWORD_RESET_SUBJECT
    token = token_in(mail.body)
    assert f"{PUBLIC_URL}/reset-password?token={token}" in mail.body
    assert "If you did not ask for this, ignore this email" in mail.body
    assert world.patient.user.name not in mail.text
    assert token not in repr(stored_hashes(app))  # only its hash is kept

    confirmed = client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["access_token"]
    assert client.post(LOGIN, json={"email": email, "password": NEW_PASSWORD}).status_code == 200
    assert client.post(LOGIN, json={"email": email, "password": PASSWORD}).status_code == 401
    again = client.post(CONFIRM, json={"token": token, "password": "one more long password"})
    assert again.status_code == 401


def test_an_unknown_address_gets_no_event_and_no_email(app, client, world, email_on):
    assert client.post(RESET, json={"email": "nobody.here@example.test"}).status_code == 202

    assert events_of(app, EventType.ACCOUNT_PASSWORD_RESET) == []
    assert deliver_emails(app) == []
    assert email_on.messages == []
    assert stored_hashes(app) == []


def test_each_attempt_mints_its_own_token_and_one_reset_ends_them_all(app, client, world, email_on):
    assert client.post(RESET, json={"email": world.clinician.user.email}).status_code == 202
    [event] = events_of(app, EventType.ACCOUNT_PASSWORD_RESET)
    delivery_id = email_delivery(app, event.id, world.clinician.id)

    # Two attempts at one delivery (a retry after the server took the first but said no).
    assert prepared(app, delivery_id)() == Sent(True)
    assert prepared(app, delivery_id)() == Sent(True)

    tokens = [token_in(mail.body) for mail in email_on.wait_for(2)]
    assert len(set(tokens)) == 2 == len(stored_hashes(app))
    first = client.post(CONFIRM, json={"token": tokens[1], "password": NEW_PASSWORD})
    assert first.status_code == 200
    second = client.post(CONFIRM, json={"token": tokens[0], "password": NEW_PASSWORD})
    assert second.status_code == 401


def test_a_request_older_than_a_link_would_live_is_not_sent(app, client, world, email_on):
    assert client.post(RESET, json={"email": world.patient.user.email}).status_code == 202
    later = datetime.now(UTC) + app.config["PASSWORD_RESET_TTL"] + timedelta(minutes=1)

    with frozen(app, later):
        [delivery] = deliver_emails(app)

    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.last_error == "the reset request expired"
    assert email_on.messages == []
    assert stored_hashes(app) == []


def test_an_account_without_a_password_gets_no_reset_email(app, client, world, email_on):
    response = client.post(
        f"{API}/clinicians",
        headers=world.admin.headers,
        json={"email": "not.yet@example.test", "name": "Dr. Not Yet"},
    )
    user_id = uuid.UUID(response.get_json()["id"])
    # Written by hand: asking for this address writes no event (tests/passwords).
    emit_event(app, EventType.ACCOUNT_PASSWORD_RESET, {"user_id": user_id}, [user_id])

    deliveries = deliver_emails(app)

    reset = [d for d in deliveries if d.last_error == "the account is not activated"]
    assert len(reset) == 1 and reset[0].status is DeliveryStatus.FAILED
    assert all(mail.subject != PASSWORD_RESET_SUBJECT for mail in email_on.messages)
    assert stored_hashes(app) == []


# --- what the email says ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CLINICIAN, Role.PATIENT])
def test_the_reset_email_says_only_that_a_reset_was_asked_for(role):
    token = "tok-EN_123"
    expires = datetime(2026, 12, 8, 12, 30, tzinfo=UTC)
    data = {"user_id": str(uuid.uuid4()), "patient_id": str(uuid.uuid4()), "note": "Dizzy."}

    email = compose(
        EventType.ACCOUNT_PASSWORD_RESET,
        data,
        role,
        public_url=PUBLIC_URL + "/",
        password_reset=PasswordResetLink(token=token, expires_at=expires),
    )

    assert email.subject == PASSWORD_RESET_SUBJECT
    assert email.body.startswith("Someone asked to reset the password")
    assert f"{PUBLIC_URL}/reset-password?token={token}\n" in email.body
    assert "works once, until 2026-12-08 12:30 UTC" in email.body
    assert "If you did not ask for this, ignore this email" in email.body
    for value in data.values():  # no identifier, and nothing else of the event
        assert value not in email.body


def test_a_reset_email_needs_its_token():
    with pytest.raises(ValueError, match="token"):
        compose(EventType.ACCOUNT_PASSWORD_RESET, {}, Role.PATIENT, public_url=PUBLIC_URL)
