"""Refresh tokens rotate, a replayed one revokes its whole sign-in; logout ends one sign-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import time_machine
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.auth.helpers import (
    LOGOUT,
    REFRESH,
    assert_problem,
    assert_token_pair,
    bearer,
    family_of,
    new_sign_in,
    refresh,
    revoked_reason,
    who_am_i,
)
from tests.factories import Actor


def assert_pair_works(client: FlaskClient, pair: dict[str, str]) -> dict[str, str]:
    """Both halves are accepted; returns the pair the refresh rotated to."""
    assert who_am_i(client, pair["access_token"]).status_code == 200
    return assert_token_pair(refresh(client, pair["refresh_token"]))


def assert_pair_dead(client: FlaskClient, pair: dict[str, str]) -> None:
    assert_problem(who_am_i(client, pair["access_token"]), 401)
    assert_problem(refresh(client, pair["refresh_token"]), 401)


def pair_of(actor: Actor) -> dict[str, str]:
    return {"access_token": actor.access_token, "refresh_token": actor.refresh_token}


def logout(client: FlaskClient, access_token: str) -> TestResponse:
    return client.post(LOGOUT, headers=bearer(access_token))


def after_the_grace() -> time_machine.travel:
    """A clock past the window in which a spent refresh token may still be retried (10 s)."""
    return time_machine.travel(datetime.now(UTC) + timedelta(seconds=11), tick=True)


def jti_of(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["jti"]


def test_refresh_answers_a_new_working_pair_of_the_same_sign_in(client, world):
    first = new_sign_in(client, world.patient.user)

    second = assert_token_pair(refresh(client, first["refresh_token"]))

    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert family_of(second["refresh_token"]) == family_of(first["refresh_token"])
    assert who_am_i(client, second["access_token"]).json["id"] == world.patient.id
    assert_pair_works(client, second)


def test_refresh_does_not_take_an_access_token(client, world):
    assert_problem(refresh(client, world.patient.access_token), 401)
    # Nothing was spent by the refused attempt.
    assert_pair_works(client, pair_of(world.patient))


def test_reusing_a_spent_refresh_token_revokes_the_whole_family(app, client, world):
    first = new_sign_in(client, world.clinician.user)
    second = assert_token_pair(refresh(client, first["refresh_token"]))

    with after_the_grace():
        assert_problem(refresh(client, first["refresh_token"]), 401)

    assert_pair_dead(client, second)
    assert revoked_reason(app, family_of(first["refresh_token"])) == "refresh_reuse"


def test_reuse_leaves_other_sign_ins_of_the_same_user_alone(client, world):
    other = new_sign_in(client, world.clinician.user)
    first = new_sign_in(client, world.clinician.user)
    assert_token_pair(refresh(client, first["refresh_token"]))

    with after_the_grace():
        assert_problem(refresh(client, first["refresh_token"]), 401)

    assert_pair_works(client, other)
    assert who_am_i(client, world.clinician.access_token).status_code == 200


def test_a_retry_within_seconds_answers_the_same_new_pair_and_keeps_the_sign_in(app, client, world):
    first = new_sign_in(client, world.patient.user)
    answered = assert_token_pair(refresh(client, first["refresh_token"]))

    retried = assert_token_pair(refresh(client, first["refresh_token"]))

    assert jti_of(retried["refresh_token"]) == jti_of(answered["refresh_token"])
    assert family_of(retried["refresh_token"]) == family_of(first["refresh_token"])
    assert revoked_reason(app, family_of(first["refresh_token"])) is None
    assert who_am_i(client, answered["access_token"]).status_code == 200
    assert who_am_i(client, retried["access_token"]).status_code == 200
    # Either copy of the new refresh token moves the sign-in on.
    assert_pair_works(client, retried)


def test_a_token_two_rotations_old_is_reuse_even_within_seconds(app, client, world):
    first = new_sign_in(client, world.patient.user)
    second = assert_token_pair(refresh(client, first["refresh_token"]))
    assert_token_pair(refresh(client, second["refresh_token"]))

    assert_problem(refresh(client, first["refresh_token"]), 401)

    assert revoked_reason(app, family_of(first["refresh_token"])) == "refresh_reuse"


def test_a_retry_after_the_grace_revokes_even_the_retried_pair(app, client, world):
    first = new_sign_in(client, world.patient.user)
    answered = assert_token_pair(refresh(client, first["refresh_token"]))
    assert_token_pair(refresh(client, first["refresh_token"]))

    with after_the_grace():
        assert_problem(refresh(client, first["refresh_token"]), 401)

    assert_pair_dead(client, answered)


def test_the_refresh_token_may_come_in_the_body_as_oauth_clients_send_it(client, world):
    first = new_sign_in(client, world.clinician.user)

    second = assert_token_pair(client.post(REFRESH, json={"refresh_token": first["refresh_token"]}))

    assert family_of(second["refresh_token"]) == family_of(first["refresh_token"])
    assert who_am_i(client, second["access_token"]).status_code == 200


def test_an_access_token_in_the_body_is_refused(client, world):
    response = client.post(REFRESH, json={"refresh_token": world.patient.access_token})

    assert_problem(response, 401)
    assert_pair_works(client, pair_of(world.patient))


def test_a_refresh_body_with_another_field_is_422_and_spends_nothing(client, world):
    response = client.post(
        REFRESH,
        json={"refresh_token": world.patient.refresh_token, "grant_type": "refresh_token"},
    )

    assert_problem(response, 422)
    assert_pair_works(client, pair_of(world.patient))


def test_a_refresh_without_any_token_is_401(client):
    assert_problem(client.post(REFRESH, json={}), 401)
    assert_problem(client.post(REFRESH), 401)


def test_refresh_works_after_the_access_token_expired(client, world):
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=20), tick=False):
        assert_problem(who_am_i(client, world.patient.access_token), 401)
        pair = assert_token_pair(refresh(client, world.patient.refresh_token))
        assert who_am_i(client, pair["access_token"]).status_code == 200


def test_logout_ends_this_sign_in_only(app, client, world):
    other = new_sign_in(client, world.admin.user)
    this = new_sign_in(client, world.admin.user)

    response = logout(client, this["access_token"])

    assert response.status_code == 204
    assert response.get_data() == b""
    assert_pair_dead(client, this)
    assert revoked_reason(app, family_of(this["access_token"])) == "logout"
    assert revoked_reason(app, family_of(other["access_token"])) is None
    assert_pair_works(client, other)


def test_logout_also_kills_refresh_tokens_rotated_before_it(client, world):
    first = new_sign_in(client, world.patient.user)
    second = assert_token_pair(refresh(client, first["refresh_token"]))

    assert logout(client, first["access_token"]).status_code == 204

    assert_pair_dead(client, second)


def test_logout_requires_an_access_token(client, world):
    assert_problem(logout(client, world.patient.refresh_token), 401)
    assert_problem(client.post(LOGOUT), 401)
    # The refused logouts revoked nothing.
    assert who_am_i(client, world.patient.access_token).status_code == 200


def test_logout_twice_is_401(client, world):
    assert logout(client, world.other_patient.access_token).status_code == 204
    assert_problem(logout(client, world.other_patient.access_token), 401)


def test_a_reused_refresh_token_says_so_in_the_challenge(client, world):
    first = new_sign_in(client, world.patient.user)
    assert_token_pair(refresh(client, first["refresh_token"]))

    with after_the_grace():
        response = refresh(client, first["refresh_token"])

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="telehealth", error="invalid_token", '
        'error_description="The refresh token was already used"'
    )
