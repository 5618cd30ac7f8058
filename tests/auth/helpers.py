"""Small helpers shared by the authentication tests: paths, problem checks, crafted tokens and
direct database access for setting up states the API cannot reach (an inactive user)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jwt
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from telehealth.accounts import service as accounts
from telehealth.accounts.models import User
from telehealth.auth.models import TokenFamily
from telehealth.extensions import db
from tests.factories import PASSWORD
from tests.problems import PROBLEM_KEYS, assert_problem  # noqa: F401 - re-exported

ME = "/api/v1/me"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ACTIVATE = "/api/v1/auth/activate"
CLINICIANS = "/api/v1/clinicians"
PATIENTS = "/api/v1/patients"

STRONG_PASSWORD = "a long enough new password"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_token_pair(response: TestResponse) -> dict[str, Any]:
    """A 200 with a fresh token pair, as login, refresh and activate answer."""
    assert response.status_code == 200, response.get_data(as_text=True)
    pair = response.get_json()
    assert pair["token_type"] == "Bearer"
    assert pair["expires_in"] == 900
    assert pair["access_token"] and pair["refresh_token"]
    assert pair["access_token"] != pair["refresh_token"]
    return pair


def login(client: FlaskClient, email: str, password: str = PASSWORD, **kwargs: Any) -> TestResponse:
    return client.post(LOGIN, json={"email": email, "password": password}, **kwargs)


def new_sign_in(client: FlaskClient, user: User) -> dict[str, Any]:
    """A second, independent sign-in (its own token family) through the API."""
    return assert_token_pair(login(client, user.email))


def who_am_i(client: FlaskClient, access_token: str) -> TestResponse:
    return client.get(ME, headers=bearer(access_token))


def refresh(client: FlaskClient, refresh_token: str) -> TestResponse:
    return client.post(REFRESH, headers=bearer(refresh_token))


def craft_token(
    app: Flask,
    genuine: str,
    *,
    key: str | None = None,
    algorithm: str = "HS256",
    **claims: Any,
) -> str:
    """`genuine` (a token the app issued) re-signed with `claims` changed.

    Without arguments the result is as good as the original, which the tests check, so any
    refusal of a crafted token is due to the one thing changed.
    """
    config = app.config
    payload = jwt.decode(
        genuine,
        config["JWT_SECRET_KEY"],
        algorithms=config["JWT_DECODE_ALGORITHMS"],
        audience=config["JWT_DECODE_AUDIENCE"],
        issuer=config["JWT_DECODE_ISSUER"],
    )
    payload.update(claims)
    signing_key = None if algorithm == "none" else (key or config["JWT_SECRET_KEY"])
    return jwt.encode(payload, signing_key, algorithm=algorithm)


@contextmanager
def database(app: Flask) -> Iterator[Session]:
    """A unit of work on the test's database, committed (to the test's savepoint) at the end."""
    with app.app_context(), db.begin() as session:
        yield session


def set_user(app: Flask, user_id: uuid.UUID | str, **values: Any) -> None:
    with database(app) as session:
        user = session.get(User, uuid.UUID(str(user_id)))
        assert user is not None
        for name, value in values.items():
            setattr(user, name, value)


def stored_password_hash(app: Flask, user_id: uuid.UUID | str) -> str | None:
    with database(app) as session:
        user = session.get(User, uuid.UUID(str(user_id)))
        assert user is not None
        return user.password_hash


def invite_clinician(app: Flask, email: str) -> str:
    """A clinician who was invited but never activated (no password); returns the token."""
    with database(app) as session:
        return accounts.create_clinician(session, email=email, name="Dr. Invited").invitation_token


def family_of(token: str) -> uuid.UUID:
    return uuid.UUID(jwt.decode(token, options={"verify_signature": False})["fam"])


def revoked_reason(app: Flask, family_id: uuid.UUID) -> str | None:
    with database(app) as session:
        return session.scalar(select(TokenFamily.revoked_reason).where(TokenFamily.id == family_id))
