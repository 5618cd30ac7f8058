"""POST /api/v1/auth/password-reset and /confirm: anyone asks for a reset link by email and
gets the same answer whether or not an account has the address; an active account with a
password gets an `account.password_reset` event (its email, and the token in it, are made when
it is sent: tests/mail/test_mail_password_reset.py). A token works once, until it expires, and
signs the owner in with the new password; every other sign-in and reset link ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from config import Config, load_config
from telehealth.extensions import db
from telehealth.outbound.models import EventType, OutboxEvent
from telehealth.passwords.models import PasswordReset
from tests.auth.helpers import (
    assert_problem,
    assert_token_pair,
    family_of,
    invite_clinician,
    login,
    new_sign_in,
    revoked_reason,
    set_user,
    who_am_i,
)
from tests.factories import PASSWORD, frozen
from tests.passwords.password_helpers import (
    CONFIRM,
    NEW_PASSWORD,
    RESET,
    confirm,
    open_resets,
    reset_token,
)
from tests.patients.helpers import audit_events

#: Headers that differ between any two answers whatever they are about.
PER_REQUEST = {"X-Request-ID", "X-RateLimit-Reset", "Date"}


def ask(client, email, address="198.51.100.1"):
    return client.post(RESET, json={"email": email}, environ_base={"REMOTE_ADDR": address})


def reset_events(app) -> list[OutboxEvent]:
    with app.app_context(), db.begin() as session:
        return list(
            session.scalars(
                select(OutboxEvent).where(OutboxEvent.type == EventType.ACCOUNT_PASSWORD_RESET)
            ).all()
        )


def answer_of(response) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k not in PER_REQUEST}
    return response.status_code, response.get_data(), headers


# --- asking -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "clinician", "patient"])
def test_asking_for_an_account_writes_a_reset_event_without_a_token(app, client, world, role):
    actor = getattr(world, role)

    response = ask(client, actor.user.email)

    assert response.status_code == 202
    assert "detail" in response.get_json()
    [event] = reset_events(app)
    assert event.data == {"user_id": actor.id}
    assert event.recipients == [actor.id]
    assert open_resets(app, actor.id) == 0  # the token is minted when the email is sent


def test_the_address_is_matched_however_it_is_spelled(app, client, world):
    assert ask(client, f"  {world.patient.user.email.upper()} ").status_code == 202

    assert [event.data["user_id"] for event in reset_events(app)] == [world.patient.id]


def test_an_unknown_address_gets_exactly_the_answer_a_known_one_gets(
    app, client, world, monkeypatch
):
    # The production limits, so that the rate-limit headers are the real ones.
    for name in ("PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS", "PASSWORD_RESET_RATE_LIMIT_PER_EMAIL"):
        monkeypatch.setitem(app.config, name, getattr(Config, name))

    known = ask(client, world.patient.user.email, "198.51.100.1")
    unknown = ask(client, "nobody.here@example.test", "198.51.100.2")

    assert answer_of(unknown) == answer_of(known)
    assert known.status_code == 202
    assert [event.data["user_id"] for event in reset_events(app)] == [world.patient.id]


@pytest.mark.parametrize("state", ["deactivated", "never activated"])
def test_an_account_that_cannot_sign_in_gets_the_same_answer_and_no_event(
    app, client, world, state
):
    if state == "deactivated":
        email = world.other_patient.user.email
        set_user(app, world.other_patient.id, is_active=False)
    else:
        email = "invited.only@example.test"
        invite_clinician(app, email)
    known = ask(client, world.patient.user.email, "198.51.100.1")

    response = ask(client, email, "198.51.100.2")

    assert answer_of(response) == answer_of(known)
    assert [event.data["user_id"] for event in reset_events(app)] == [world.patient.id]


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "not an address"}, {"email": 42}, {"email": "a@b.test", "user_id": "x"}],
)
def test_bad_input_is_422(client, body):
    problem = assert_problem(client.post(RESET, json=body), 422)
    assert problem["errors"]


def test_asking_is_limited_per_email_address_from_every_client_address(
    app, client, world, monkeypatch
):
    monkeypatch.setitem(app.config, "PASSWORD_RESET_RATE_LIMIT_PER_EMAIL", "2/minute")
    for address in ("203.0.113.1", "203.0.113.2"):
        assert ask(client, "nobody.here@example.test", address).status_code == 202
        assert ask(client, world.patient.user.email, address).status_code == 202

    for email in ("nobody.here@example.test", world.patient.user.email.upper()):
        limited = ask(client, email, "203.0.113.3")
        assert_problem(limited, 429)
        assert int(limited.headers["Retry-After"]) > 0
    assert ask(client, world.clinician.user.email, "203.0.113.3").status_code == 202
    assert len(reset_events(app)) == 3


def test_asking_is_limited_per_client_address(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS", "2/minute")
    assert ask(client, "one@example.test", "203.0.113.9").status_code == 202
    assert ask(client, "two@example.test", "203.0.113.9").status_code == 202

    assert_problem(ask(client, world.patient.user.email, "203.0.113.9"), 429)
    assert ask(client, world.patient.user.email, "203.0.113.10").status_code == 202


def test_a_request_is_audited_alike_for_known_and_unknown_addresses(app, client, world):
    ask(client, world.patient.user.email)
    ask(client, "nobody.here@example.test")

    events = audit_events(app, action="auth.password_reset_request")
    assert [(e.actor_id, e.resource_id, e.status_code) for e in events] == [(None, None, 202)] * 2


# --- confirming -------------------------------------------------------------------------------


def test_a_token_sets_the_password_and_signs_in(app, client, world):
    token = reset_token(app, world.patient.id)

    pair = assert_token_pair(confirm(client, token))

    assert who_am_i(client, pair["access_token"]).get_json()["id"] == world.patient.id
    assert_problem(login(client, world.patient.user.email, PASSWORD), 401)
    assert_token_pair(login(client, world.patient.user.email, NEW_PASSWORD))
    [event] = audit_events(app, action="auth.password_reset")
    assert (str(event.actor_id), event.resource_id) == (world.patient.id, world.patient.id)


def test_a_token_works_once(app, client, world):
    token = reset_token(app, world.clinician.id)
    assert_token_pair(confirm(client, token))

    again = confirm(client, token, "yet another long password")

    assert_problem(again, 401)
    assert_token_pair(login(client, world.clinician.user.email, NEW_PASSWORD))


def test_a_reset_ends_every_sign_in_and_every_other_reset_link(app, client, world):
    other = new_sign_in(client, world.patient.user)
    first, second = reset_token(app, world.patient.id), reset_token(app, world.patient.id)

    assert_token_pair(confirm(client, second))

    for access_token in (world.patient.access_token, other["access_token"]):
        assert_problem(who_am_i(client, access_token), 401)
    assert revoked_reason(app, family_of(other["access_token"])) == "password_reset"
    assert open_resets(app, world.patient.id) == 0
    assert_problem(confirm(client, first, "the first link again!"), 401)


def test_a_token_expires_after_the_setting_s_minutes(app, client, world):
    ttl = app.config["PASSWORD_RESET_TTL"]
    assert timedelta(0) < ttl <= timedelta(hours=1)
    minted = datetime.now(UTC)
    late, in_time = reset_token(app, world.patient.id), reset_token(app, world.patient.id)
    with app.app_context(), db.begin() as session:
        lives = {r.expires_at - r.created_at for r in session.scalars(select(PasswordReset))}
    assert lives == {ttl}

    with frozen(app, minted + ttl + timedelta(seconds=1)):
        expired = confirm(client, late)
    with frozen(app, minted + ttl - timedelta(seconds=5)):
        assert_token_pair(confirm(client, in_time))

    assert assert_problem(expired, 401) == assert_problem(confirm(client, "made-up-token"), 401)


def test_unknown_used_and_expired_tokens_get_one_answer(app, client, world):
    used = reset_token(app, world.admin.id)
    assert_token_pair(confirm(client, used))
    expired = reset_token(app, world.clinician.id)

    with frozen(app, datetime.now(UTC) + timedelta(hours=2)):
        answers = [confirm(client, token) for token in ("x" * 43, used, expired)]

    bodies = [assert_problem(answer, 401) for answer in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    assert {answer.headers["WWW-Authenticate"] for answer in answers} == {
        answers[0].headers["WWW-Authenticate"]
    }


def test_a_deactivated_account_s_token_no_longer_works(app, client, world):
    token = reset_token(app, world.patient.id)
    set_user(app, world.patient.id, is_active=False)

    assert_problem(confirm(client, token), 401)


@pytest.mark.parametrize("password", ["too short", " " * 16])
def test_the_new_password_follows_the_activation_rules(app, client, world, password):
    token = reset_token(app, world.patient.id)

    assert_problem(confirm(client, token, password), 422, "password")
    assert_token_pair(confirm(client, token))  # the token was not spent


@pytest.mark.parametrize(
    "body",
    [
        {"password": NEW_PASSWORD},
        {"token": "", "password": NEW_PASSWORD},
        {"token": "t" * 257, "password": NEW_PASSWORD},
        {"token": "abc"},
        {"token": "abc", "password": NEW_PASSWORD, "email": "a@b.test"},
    ],
)
def test_bad_confirm_input_is_422(client, body):
    assert_problem(client.post(CONFIRM, json=body), 422)


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [0, 61, 24 * 60])
def test_a_reset_link_may_live_an_hour_at_most(minutes):
    with pytest.raises(RuntimeError, match="PASSWORD_RESET_TTL_MINUTES"):
        load_config("test", PASSWORD_RESET_TTL=timedelta(minutes=minutes))


def test_the_default_link_lives_thirty_minutes():
    assert Config.PASSWORD_RESET_TTL == timedelta(minutes=30)
