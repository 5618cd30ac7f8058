"""Invitations by email: with SMTP configured, creating a clinician or a patient writes an
`account.invited` event (no token in it); its email carries a token of its own that activates
the account. Production leaves the token out of the API answer and refuses to start without
email settings."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from config import load_config
from telehealth.accounts.models import Invitation
from telehealth.extensions import db
from telehealth.mail.messages import INVITATION_SUBJECT
from telehealth.outbound.channels import Sent
from telehealth.outbound.models import DeliveryStatus, EventType
from tests.mail.mail_helpers import (
    deliver_emails,
    email_delivery,
    events_of,
    prepared,
    token_in,
)

API = "/api/v1"
ACTIVATE = f"{API}/auth/activate"
NEW_PASSWORD = "a long new passphrase 42"
PUBLIC_URL = "https://app.clinic.example"


def clinician_body() -> dict[str, str]:
    return {"email": f"new.clinician.{uuid.uuid4().hex[:8]}@example.test", "name": "Dr. New"}


def patient_body(clinician_id: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "email": f"new.patient.{uuid.uuid4().hex[:8]}@example.test",
        "name": "Nora New",
        "date_of_birth": "1980-01-02",
        "timezone": "Europe/Berlin",
        "emergency_contact": {"name": "Em Contact", "phone": "+1 555 0100"},
    }
    if clinician_id is not None:
        body["clinician_id"] = clinician_id
    return body


def create(client, world, who: str):
    """Create an account through the API as the right caller; the answer (201 asserted)."""
    if who == "clinician":
        response = client.post(
            f"{API}/clinicians", headers=world.admin.headers, json=clinician_body()
        )
    elif who == "patient by a clinician":
        response = client.post(
            f"{API}/patients", headers=world.clinician.headers, json=patient_body()
        )
    else:
        response = client.post(
            f"{API}/patients",
            headers=world.admin.headers,
            json=patient_body(world.clinician.id),
        )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


WHO = ["clinician", "patient by a clinician", "patient by an admin"]


def invitations_of(app, user_id: str) -> int:
    with app.app_context(), db.begin() as session:
        return session.scalar(select(func.count()).where(Invitation.user_id == uuid.UUID(user_id)))


@pytest.mark.parametrize("who", WHO)
def test_without_smtp_no_invitation_event_is_written(app, client, world, who, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", None)

    create(client, world, who)

    assert events_of(app, EventType.ACCOUNT_INVITED) == []


@pytest.mark.parametrize("who", WHO)
def test_the_invitation_event_names_the_user_and_holds_no_token(app, client, world, email_on, who):
    created = create(client, world, who)

    [event] = events_of(app, EventType.ACCOUNT_INVITED)
    assert event.data == {"user_id": created["id"]}
    assert event.recipients == [created["id"]]
    assert created["invitation_token"] not in repr((event.data, event.recipients))


@pytest.mark.parametrize("who", WHO)
def test_the_invitation_email_activates_the_account(app, client, world, email_on, who, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC_URL)
    created = create(client, world, who)

    [delivery] = deliver_emails(app)

    assert delivery.status is DeliveryStatus.DELIVERED
    [mail] = email_on.wait_for(1)
    assert mail.envelope_to == [created["email"]]
    assert mail.subject == INVITATION_SUBJECT
    token = token_in(mail.body)
    assert f"{PUBLIC_URL}/activate?token={token}" in mail.body
    assert f"invitation code in the app: {token}" in mail.body
    assert token != created["invitation_token"]  # a fresh one, issued when sent
    assert created["name"] not in mail.text

    activated = client.post(ACTIVATE, json={"token": token, "password": NEW_PASSWORD})
    assert activated.status_code == 200, activated.get_json()
    assert activated.get_json()["access_token"]
    # One activation ends every other invitation of the account (the answer's included).
    again = client.post(
        ACTIVATE, json={"token": created["invitation_token"], "password": "someone else's pass"}
    )
    assert again.status_code == 401


def test_each_attempt_issues_its_own_token_and_one_activation_ends_them_all(
    app, client, world, email_on
):
    created = create(client, world, "clinician")
    [event] = events_of(app, EventType.ACCOUNT_INVITED)
    delivery_id = email_delivery(app, event.id, created["id"])

    # Two attempts at one delivery (a retry after the server took the first but said no).
    assert prepared(app, delivery_id)() == Sent(True)
    assert prepared(app, delivery_id)() == Sent(True)

    tokens = [token_in(mail.body) for mail in email_on.wait_for(2)]
    assert len(set(tokens)) == 2
    assert invitations_of(app, created["id"]) == 3  # the answer's and one per email
    assert (
        client.post(ACTIVATE, json={"token": tokens[1], "password": NEW_PASSWORD}).status_code
        == 200
    )
    assert (
        client.post(ACTIVATE, json={"token": tokens[0], "password": NEW_PASSWORD}).status_code
        == 401
    )


def test_an_account_already_activated_gets_no_invitation_email(app, client, world, email_on):
    created = create(client, world, "clinician")
    answer = client.post(
        ACTIVATE, json={"token": created["invitation_token"], "password": NEW_PASSWORD}
    )
    assert answer.status_code == 200

    [delivery] = deliver_emails(app)

    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.last_error == "the account is already activated"
    assert email_on.messages == []
    assert invitations_of(app, created["id"]) == 1  # no token issued for nothing


@pytest.mark.parametrize("who", WHO)
def test_the_answer_carries_the_token_only_when_the_setting_says_so(
    app, client, world, who, monkeypatch
):
    assert app.config["RETURN_INVITATION_TOKEN"] is True  # the test settings
    assert "invitation_token" in create(client, world, who)

    monkeypatch.setitem(app.config, "RETURN_INVITATION_TOKEN", False)  # as in production
    created = create(client, world, who)

    assert "invitation_token" not in created
    assert created["id"] and created["email"]


def test_the_api_document_says_the_token_is_present_only_outside_production(client):
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]

    for name in ("InvitedClinicianOut", "InvitedPatientOut"):
        assert "invitation_token" not in schemas[name].get("required", [])
        description = schemas[name]["properties"]["invitation_token"]["description"]
        assert "only outside production" in description


# --- settings -----------------------------------------------------------------------------

PRODUCTION = {
    "SECRET_KEY": "s" * 40,
    "JWT_SECRET_KEY": "j" * 40,
    "AUDIT_KEY": "a" * 40,
    "DATABASE_URL": "postgresql+psycopg://db/telehealth",
    "SMTP_URL": "smtp+starttls://relay:secret@mail.clinic.example:587",
    "MAIL_FROM": "Telehealth <no-reply@clinic.example>",
}


def test_production_with_email_settings_starts_and_returns_no_token():
    config = load_config("production", **PRODUCTION)

    assert config.RETURN_INVITATION_TOKEN is False


@pytest.mark.parametrize(
    "url",
    [
        "smtp://mail.clinic.example:25",  # a relay that takes mail without a login
        "smtp://relay:secret@127.0.0.1:25",  # a login to a relay on the same machine
        "smtps://relay:secret@mail.clinic.example",
    ],
)
def test_production_accepts_smtp_without_a_password_in_clear_text(url):
    assert load_config("production", **{**PRODUCTION, "SMTP_URL": url}).SMTP_URL == url


@pytest.mark.parametrize("name", ["development", "test"])
def test_development_and_test_return_the_token(name):
    assert load_config(name).RETURN_INVITATION_TOKEN is True


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"SMTP_URL": None}, "SMTP_URL"),
        ({"SMTP_URL": ""}, "SMTP_URL"),
        ({"SMTP_URL": "http://relay:hunter2secret@mail.clinic.example"}, "SMTP_URL"),
        ({"MAIL_FROM": "Telehealth <no-reply@localhost>"}, "MAIL_FROM"),
        ({"MAIL_FROM": "Telehealth"}, "MAIL_FROM"),
        ({"RETURN_INVITATION_TOKEN": True}, "RETURN_INVITATION_TOKEN"),
        ({"SMTP_URL": "smtp://relay:hunter2secret@mail.clinic.example:25"}, "clear text"),
    ],
)
def test_production_refuses_to_start_without_usable_email(overrides, says):
    with pytest.raises(RuntimeError, match=says) as refused:
        load_config("production", **{**PRODUCTION, **overrides})

    assert "hunter2secret" not in str(refused.value)


@pytest.mark.parametrize(
    "overrides",
    [
        {"MAIL_RETRY_DELAYS_SECONDS": []},
        {"MAIL_RETRY_DELAYS_SECONDS": [30, 0]},
        {"MAIL_RETRY_DELAYS_SECONDS": [30, "60"]},
        {"MAIL_RETRY_DELAYS_SECONDS": {"first": 30}},
        {"SMTP_TIMEOUT_SECONDS": 0},
        {"SMTP_URL": "smtp://"},
    ],
)
def test_unusable_email_settings_are_refused_everywhere(overrides):
    with pytest.raises(RuntimeError):
        load_config("test", **overrides)
