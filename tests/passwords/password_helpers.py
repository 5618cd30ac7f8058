"""Shared by the password tests: paths, and reading or minting what the API never shows."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from telehealth.accounts.models import User
from telehealth.extensions import db
from telehealth.passwords.models import PasswordReset
from telehealth.passwords.service import issue_password_reset

API = "/api/v1"
CHANGE = f"{API}/me/password"
RESET = f"{API}/auth/password-reset"
CONFIRM = f"{API}/auth/password-reset/confirm"
NEW_PASSWORD = "a brand new passphrase 7"


def change(
    client: FlaskClient, headers: dict[str, str], current: str, new: str = NEW_PASSWORD
) -> TestResponse:
    body = {"current_password": current, "new_password": new}
    return client.post(CHANGE, json=body, headers=headers)


def confirm(client: FlaskClient, token: str, password: str = NEW_PASSWORD) -> TestResponse:
    return client.post(CONFIRM, json={"token": token, "password": password})


def reset_token(app: Flask, user_id: uuid.UUID | str) -> str:
    """A reset token for the user, minted as the email channel mints one when it sends."""
    with app.app_context(), db.begin() as session:
        user = session.get_one(User, uuid.UUID(str(user_id)))
        token, _reset = issue_password_reset(session, user)
        return token


def open_resets(app: Flask, user_id: uuid.UUID | str) -> int:
    """How many of the user's reset tokens are unused (expired or not)."""
    with app.app_context(), db.begin() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    PasswordReset.user_id == uuid.UUID(str(user_id)),
                    PasswordReset.used_at.is_(None),
                )
            )
            or 0
        )
