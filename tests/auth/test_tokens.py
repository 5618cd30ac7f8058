"""Every way a bearer token can be wrong answers the same 401 problem; the genuine token works."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from tests.auth.helpers import (
    LOGOUT,
    ME,
    REFRESH,
    assert_problem,
    bearer,
    craft_token,
    refresh,
    set_user,
    who_am_i,
)
from tests.conftest import World

OTHER_KEY = "another-secret-that-is-just-as-long-as-the-real-one"


@dataclass
class Attempt:
    """One request the service must refuse with 401."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)


def _me(token: str) -> Attempt:
    return Attempt("GET", ME, bearer(token))


def _crafted(**changes: object) -> Callable[[Flask, FlaskClient, World], Attempt]:
    def case(app: Flask, _client: FlaskClient, world: World) -> Attempt:
        return _me(craft_token(app, world.patient.access_token, **changes))

    return case


def _no_token(_app: Flask, _client: FlaskClient, _world: World) -> Attempt:
    return Attempt("GET", ME)


def _malformed(_app: Flask, _client: FlaskClient, _world: World) -> Attempt:
    return _me("not.a-real.jwt")


def _not_bearer_scheme(_app: Flask, _client: FlaskClient, world: World) -> Attempt:
    return Attempt("GET", ME, {"Authorization": f"Token {world.patient.access_token}"})


def _expired(app: Flask, client: FlaskClient, world: World) -> Attempt:
    now = int(time.time())
    return _crafted(iat=now - 1000, nbf=now - 1000, exp=now - 60)(app, client, world)


def _refresh_as_access(_app: Flask, _client: FlaskClient, world: World) -> Attempt:
    return _me(world.patient.refresh_token)


def _after_logout(_app: Flask, client: FlaskClient, world: World) -> Attempt:
    assert client.post(LOGOUT, headers=world.patient.headers).status_code == 204
    return _me(world.patient.access_token)


def _spent_refresh(_app: Flask, client: FlaskClient, world: World) -> Attempt:
    # Spent twice over: the token before last is reuse even within the retry grace window.
    second = refresh(client, world.patient.refresh_token)
    assert refresh(client, second.get_json()["refresh_token"]).status_code == 200
    return Attempt("POST", REFRESH, bearer(world.patient.refresh_token))


def _inactive_user(app: Flask, _client: FlaskClient, world: World) -> Attempt:
    set_user(app, world.patient.id, is_active=False)
    return _me(world.patient.access_token)


def _someone_elses_family(app: Flask, client: FlaskClient, world: World) -> Attempt:
    # The patient's own family id, but another user as subject: a family belongs to one user.
    return _crafted(sub=world.other_patient.id)(app, client, world)


CASES: dict[str, Callable[[Flask, FlaskClient, World], Attempt]] = {
    "no token": _no_token,
    "malformed token": _malformed,
    "not the Bearer scheme": _not_bearer_scheme,
    "alg none": _crafted(algorithm="none"),
    "signed with another key": _crafted(key=OTHER_KEY),
    "expired": _expired,
    "wrong audience": _crafted(aud="some-other-api"),
    "wrong issuer": _crafted(iss="someone-else"),
    "refresh token as access token": _refresh_as_access,
    "access token after logout": _after_logout,
    "spent refresh token": _spent_refresh,
    "user deactivated": _inactive_user,
    "family of another user": _someone_elses_family,
    "unknown user": _crafted(sub=str(uuid.uuid4())),
    "unknown family": _crafted(fam=str(uuid.uuid4())),
    "family not a uuid": _crafted(fam="1"),
}


def test_a_crafted_token_with_nothing_changed_is_accepted(app, client, world):
    """The control for the table below: crafting alone does not make a token invalid."""
    response = who_am_i(client, craft_token(app, world.patient.access_token))
    assert response.status_code == 200
    assert response.json["id"] == world.patient.id


@pytest.mark.parametrize("make_attempt", CASES.values(), ids=CASES.keys())
def test_bad_token_gets_401_problem(app, client, world, make_attempt):
    attempt = make_attempt(app, client, world)

    response = client.open(attempt.path, method=attempt.method, headers=attempt.headers)

    body = assert_problem(response, 401)
    if attempt.path == ME:
        # One body for every token failure; the challenge says (RFC 6750) that the token was
        # the trouble, and whether it only expired (refresh) or is no good (sign in again).
        reference = client.get(ME)
        assert response.get_data() == reference.get_data()
        assert reference.headers["WWW-Authenticate"] == 'Bearer realm="telehealth"'
        challenge = response.headers["WWW-Authenticate"]
        if make_attempt in (_no_token, _not_bearer_scheme):
            assert challenge == reference.headers["WWW-Authenticate"]  # no token at all
            return
        assert challenge.startswith('Bearer realm="telehealth", error="invalid_token"')
        expired = 'error_description="The access token expired"'
        assert (expired in challenge) is (make_attempt is _expired), challenge
    assert "Traceback" not in body["detail"]


# Issue 18: expired and forged tokens got the same 401, so an app could not tell "refresh"
# from "sign in again".
def test_an_expired_access_token_says_so_and_a_forged_one_does_not(app, client, world):
    expired = client.get(ME, headers=_expired(app, client, world).headers)
    forged = client.get(ME, headers=_crafted(key=OTHER_KEY)(app, client, world).headers)

    assert_problem(expired, 401)
    assert expired.headers["WWW-Authenticate"] == (
        'Bearer realm="telehealth", error="invalid_token", '
        'error_description="The access token expired"'
    )
    assert_problem(forged, 401)
    assert forged.headers["WWW-Authenticate"] == (
        'Bearer realm="telehealth", error="invalid_token", error_description="The token is invalid"'
    )


def test_an_expired_refresh_token_says_so(client, world):
    issued = datetime.now(UTC)
    with time_machine.travel(issued + timedelta(days=31), tick=False):
        response = client.post(REFRESH, headers=bearer(world.patient.refresh_token))

    assert_problem(response, 401)
    assert 'error_description="The refresh token expired"' in response.headers["WWW-Authenticate"]


def test_access_token_lives_fifteen_minutes(client, world):
    issued = datetime.now(UTC)
    with time_machine.travel(issued + timedelta(minutes=14), tick=False):
        assert who_am_i(client, world.clinician.access_token).status_code == 200
    with time_machine.travel(issued + timedelta(minutes=16), tick=False):
        assert_problem(who_am_i(client, world.clinician.access_token), 401)


def test_a_sign_in_ends_when_its_token_family_expires(app, client, world):
    """A family's expiry holds for its access tokens too, not only for refreshing."""
    from sqlalchemy import update

    from telehealth.auth.models import TokenFamily
    from telehealth.extensions import db

    assert client.get("/api/v1/me", headers=world.clinician.headers).status_code == 200
    with app.app_context(), db.begin() as session:
        session.execute(
            update(TokenFamily)
            .where(TokenFamily.user_id == world.clinician.user.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    response = client.get("/api/v1/me", headers=world.clinician.headers)

    assert response.status_code == 401


def test_development_signs_tokens_with_a_secret_of_its_own_not_the_placeholder():
    from config import DEV_SECRET, load_config

    first, again = load_config("development"), load_config("development")

    assert first.SECRET_KEY != DEV_SECRET and len(first.SECRET_KEY) >= 64
    assert first.JWT_SECRET_KEY == first.SECRET_KEY
    assert again.SECRET_KEY == first.SECRET_KEY  # kept under instance/ across restarts
