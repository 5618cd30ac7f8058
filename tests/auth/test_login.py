"""Sign-in: a token pair for the right password, one indistinguishable 401 for everything else."""

from __future__ import annotations

from collections.abc import Callable

import jwt
import pytest
from argon2 import PasswordHasher
from flask import Flask

from tests.auth.helpers import (
    LOGIN,
    assert_problem,
    assert_token_pair,
    invite_clinician,
    login,
    set_user,
    stored_password_hash,
    who_am_i,
)
from tests.conftest import World
from tests.factories import PASSWORD

# The test settings' argon2 parameters (config.TestConfig), as they appear in an encoded hash.
CURRENT_PARAMETERS = "$argon2id$v=19$m=1024,t=1,p=1$"


def _wrong_password(_app: Flask, world: World) -> tuple[str, str]:
    return world.other_clinician.user.email, "not the right password"


def _unknown_email(_app: Flask, _world: World) -> tuple[str, str]:
    return "nobody-at-all@example.test", PASSWORD


def _inactive_user(app: Flask, world: World) -> tuple[str, str]:
    set_user(app, world.lone_clinician.id, is_active=False)
    return world.lone_clinician.user.email, PASSWORD


def _invited_not_activated(app: Flask, _world: World) -> tuple[str, str]:
    email = "invited-only@example.test"
    invite_clinician(app, email)
    return email, PASSWORD


FAILURES: dict[str, Callable[[Flask, World], tuple[str, str]]] = {
    "wrong password": _wrong_password,
    "unknown email": _unknown_email,
    "inactive user": _inactive_user,
    "invited, no password yet": _invited_not_activated,
}


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every argon2 hash and verify from here on, with the parameters of the hash involved."""
    calls: list[tuple[str, str]] = []
    real_hash, real_verify = PasswordHasher.hash, PasswordHasher.verify

    def spy_hash(self: PasswordHasher, password: str, **kwargs: object) -> str:
        encoded = real_hash(self, password, **kwargs)
        calls.append(("hash", encoded.rsplit("$", 2)[0]))
        return encoded

    def spy_verify(self: PasswordHasher, encoded: str, password: str) -> bool:
        calls.append(("verify", encoded.rsplit("$", 2)[0]))
        return real_verify(self, encoded, password)

    monkeypatch.setattr(PasswordHasher, "hash", spy_hash)
    monkeypatch.setattr(PasswordHasher, "verify", spy_verify)
    return calls


def test_login_answers_a_working_token_pair(client, world):
    pair = assert_token_pair(login(client, world.clinician.user.email))

    me = who_am_i(client, pair["access_token"])
    assert me.status_code == 200
    assert me.json["id"] == world.clinician.id
    refresh_claims = jwt.decode(pair["refresh_token"], options={"verify_signature": False})
    assert refresh_claims["type"] == "refresh"
    assert refresh_claims["sub"] == world.clinician.id


@pytest.mark.parametrize("spell", [str.upper, str.title, lambda email: f"  {email.upper()} "])
def test_email_is_case_insensitive(client, world, spell):
    email = world.patient.user.email
    assert spell(email) != email

    pair = assert_token_pair(login(client, spell(email)))

    assert who_am_i(client, pair["access_token"]).json["id"] == world.patient.id


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_failed_login_is_401(app, client, world, failure):
    body = assert_problem(login(client, *failure(app, world)), 401)
    assert "access_token" not in body


def test_every_failed_login_gets_a_byte_identical_answer(app, client, world):
    responses = [login(client, *failure(app, world)) for failure in FAILURES.values()]

    assert {response.status_code for response in responses} == {401}
    assert {response.content_type for response in responses} == {"application/problem+json"}
    assert len({response.get_data() for response in responses}) == 1


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_failed_login_does_one_full_cost_verification(app, client, world, failure, argon2_calls):
    # The unknown-email path verifies against a dummy hash made (and cached) on first use.
    login(client, "warm-up@example.test", "warm up the dummy hash")
    credentials = failure(app, world)
    argon2_calls.clear()

    assert_problem(login(client, *credentials), 401)

    assert argon2_calls == [("verify", CURRENT_PARAMETERS.rstrip("$"))]


def test_successful_login_with_current_parameters_keeps_the_hash(app, client, world):
    before = stored_password_hash(app, world.clinician.id)
    assert before.startswith(CURRENT_PARAMETERS)

    assert_token_pair(login(client, world.clinician.user.email))

    assert stored_password_hash(app, world.clinician.id) == before


def test_login_rehashes_a_password_hashed_with_old_parameters(app, client, world):
    old_hash = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1).hash(PASSWORD)
    set_user(app, world.clinician.id, password_hash=old_hash)

    assert_token_pair(login(client, world.clinician.user.email))

    new_hash = stored_password_hash(app, world.clinician.id)
    assert new_hash != old_hash
    assert new_hash.startswith(CURRENT_PARAMETERS)
    assert PasswordHasher().verify(new_hash, PASSWORD)
    assert_token_pair(login(client, world.clinician.user.email))


def test_a_failed_login_does_not_rehash(app, client, world):
    old_hash = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1).hash(PASSWORD)
    set_user(app, world.clinician.id, password_hash=old_hash)

    assert_problem(login(client, world.clinician.user.email, "a wrong password"), 401)

    assert stored_password_hash(app, world.clinician.id) == old_hash


def test_login_refuses_unknown_fields(client, world):
    response = client.post(
        LOGIN, json={"email": world.admin.user.email, "password": PASSWORD, "role": "admin"}
    )
    assert "role" in assert_problem(response, 422)["errors"]
