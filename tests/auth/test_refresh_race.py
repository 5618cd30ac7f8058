"""A phone on a bad network sends one refresh several times before the first answer arrives.
The first request spends the token; the others, waiting on the family's row, then find it
spent moments ago and answer the same new pair, so the sign-in survives. Real concurrent
transactions, so on a database of its own."""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest
from flask import Flask
from werkzeug.test import TestResponse

from telehealth.accounts.models import Role
from tests.auth.helpers import assert_token_pair, family_of, refresh, revoked_reason, who_am_i
from tests.databases import app_on_own_database
from tests.factories import make_user, sign_in
from tests.threads import all_at_once

RETRIES = 4


@pytest.fixture(scope="module")
def race_app() -> Iterator[Flask]:
    with app_on_own_database("telehealth_refresh_race") as app:
        yield app


def jti_of(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["jti"]


@pytest.mark.parametrize("round_", range(4))
def test_four_concurrent_retries_of_one_refresh_token_keep_the_sign_in(race_app, round_):
    app = race_app
    user = sign_in(app, make_user(app, Role.CLINICIAN, name=f"Dr. Retry {round_}"))

    def send() -> TestResponse:
        return refresh(app.test_client(), user.refresh_token)

    responses = all_at_once([send for _ in range(RETRIES)])

    pairs = [assert_token_pair(response) for response in responses]
    assert len({jti_of(pair["refresh_token"]) for pair in pairs}) == 1
    assert revoked_reason(app, family_of(user.refresh_token)) is None
    client = app.test_client()
    assert all(who_am_i(client, pair["access_token"]).status_code == 200 for pair in pairs)
    assert_token_pair(refresh(client, pairs[-1]["refresh_token"]))
