"""Login limits, per client address, per account from one address and per account from all
addresses, read from the settings on every request."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from config import Config
from tests.auth.helpers import (
    ACTIVATE,
    STRONG_PASSWORD,
    assert_problem,
    assert_token_pair,
    login,
)

GENEROUS = "1000/minute"


@pytest.fixture
def limits(app, monkeypatch):
    """Set the per-address and per-account login limits for this test."""

    def set_limits(
        *, per_address: str = GENEROUS, per_account: str = GENEROUS, ceiling: str = GENEROUS
    ) -> None:
        monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_PER_ADDRESS", per_address)
        monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_PER_ACCOUNT", per_account)
        monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_PER_ACCOUNT_ALL_ADDRESSES", ceiling)

    return set_limits


def attempt(client: FlaskClient, email: str, address: str = "203.0.113.7") -> TestResponse:
    return login(client, email, "a wrong password", environ_base={"REMOTE_ADDR": address})


def assert_rate_limited(response: TestResponse) -> None:
    assert_problem(response, 429)
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit(), retry_after
    assert 0 < int(retry_after) <= 60


def test_the_fourth_attempt_on_one_account_is_429(client, world, limits):
    limits(per_account="3/minute")
    email = world.clinician.user.email
    # Differently spelled, the same account.
    for spelling in (email, email.upper(), f" {email} "):
        assert_problem(attempt(client, spelling), 401)

    assert_rate_limited(attempt(client, email))
    # Even the right password waits: the limit is on attempts, not on failures.
    assert_rate_limited(login(client, email, environ_base={"REMOTE_ADDR": "203.0.113.7"}))


def test_another_account_from_the_same_address_is_not_held_up_by_the_account_limit(
    client, world, limits
):
    limits(per_account="3/minute")
    for _ in range(3):
        assert_problem(attempt(client, world.clinician.user.email), 401)
    assert_rate_limited(attempt(client, world.clinician.user.email))

    assert_problem(attempt(client, world.patient.user.email), 401)
    assert_token_pair(login(client, world.patient.user.email))


# Issue 18: five wrong passwords from anywhere made the right one answer 429 for up to an hour.
def test_a_stranger_s_guesses_elsewhere_do_not_lock_the_owner_out(client, world, limits):
    # The production limits, not the test ones.
    limits(
        per_account=Config.LOGIN_RATE_LIMIT_PER_ACCOUNT,
        ceiling=Config.LOGIN_RATE_LIMIT_PER_ACCOUNT_ALL_ADDRESSES,
    )
    email = world.clinician.user.email
    for _ in range(5):
        assert_problem(attempt(client, email, "198.51.100.66"), 401)
    # The stranger's address is held up ...
    assert_rate_limited(attempt(client, email, "198.51.100.66"))

    # ... the owner, from their own address, is not.
    owner = login(client, email, environ_base={"REMOTE_ADDR": "203.0.113.10"})
    assert_token_pair(owner)
    assert "Retry-After" not in owner.headers


def test_the_account_limit_is_per_address(client, world, limits):
    limits(per_account="3/minute")
    for number in range(3):
        assert_problem(attempt(client, world.clinician.user.email, f"198.51.100.{number}"), 401)

    # Each address has used one of its three attempts.
    assert_problem(attempt(client, world.clinician.user.email, "198.51.100.0"), 401)


def test_the_account_ceiling_holds_across_addresses(client, world, limits):
    """Guessing spread over many addresses is held to the higher per-account ceiling."""
    limits(per_account="3/minute", ceiling="5/minute")
    for number in range(5):
        assert_problem(attempt(client, world.clinician.user.email, f"198.51.100.{number}"), 401)

    assert_rate_limited(attempt(client, world.clinician.user.email, "198.51.100.99"))
    assert_rate_limited(login(client, world.clinician.user.email))


def test_the_production_ceiling_is_higher_than_the_per_address_limit():
    per_address = Config.LOGIN_RATE_LIMIT_PER_ACCOUNT
    ceiling = Config.LOGIN_RATE_LIMIT_PER_ACCOUNT_ALL_ADDRESSES
    assert per_address == "5/minute;30/hour"
    assert ceiling == "100/hour"


def test_a_successful_login_carries_no_retry_after(client, world):
    response = login(client, world.patient.user.email)

    assert_token_pair(response)
    assert "Retry-After" not in response.headers


def test_the_address_limit_counts_every_account(client, world, limits):
    limits(per_address="5/minute", per_account="3/minute")
    emails = [f"probe{number}@example.test" for number in range(5)]
    for email in emails:
        assert_problem(attempt(client, email), 401)

    # A sixth account, under its own limit, is refused because of the address.
    assert_rate_limited(attempt(client, "probe-six@example.test"))
    # Another address is still allowed in.
    assert_problem(attempt(client, "probe-six@example.test", "192.0.2.1"), 401)


def test_limits_follow_the_settings_per_request(client, world, limits):
    limits(per_account="2/minute")
    for _ in range(2):
        assert_problem(attempt(client, world.admin.user.email), 401)
    assert_rate_limited(attempt(client, world.admin.user.email))

    limits(per_account="5/minute")

    assert_problem(attempt(client, world.admin.user.email), 401)


def test_activation_is_limited_per_address(client, limits):
    limits(per_address="2/minute")

    def activate() -> TestResponse:
        return client.post(ACTIVATE, json={"token": "guessed", "password": STRONG_PASSWORD})

    for _ in range(2):
        assert_problem(activate(), 401)
    assert_rate_limited(activate())
