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
    assert refresh(client, world.patient.refresh_token).status_code == 200
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
        # One answer for every token failure: nothing tells the caller which check failed.
        reference = client.get(ME)
        assert response.get_data() == reference.get_data()
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Traceback" not in body["detail"]


def test_access_token_lives_fifteen_minutes(client, world):
    issued = datetime.now(UTC)
    with time_machine.travel(issued + timedelta(minutes=14), tick=False):
        assert who_am_i(client, world.clinician.access_token).status_code == 200
    with time_machine.travel(issued + timedelta(minutes=16), tick=False):
        assert_problem(who_am_i(client, world.clinician.access_token), 401)
