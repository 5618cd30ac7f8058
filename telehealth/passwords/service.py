"""Changing one's own password, and resetting a forgotten one by email.

A reset is asked for with an email address, and the answer is the same whether or not an
account has it. For an active account that already has a password, the request writes an
`account.password_reset` event and nothing more: the email channel mints the token when it
sends the email (`issue_password_reset`, in the worker's transaction), so no token ever sits in
the outbox, and only the token's hash is stored. A token works once, until it expires.

Every new password, by change or by reset, ends the account's other sign-ins (a change keeps
the caller's own) and any reset token still outstanding.
"""

from __future__ import annotations

import secrets
import uuid

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from telehealth.accounts.models import User
from telehealth.accounts.passwords import hash_password, verify_password
from telehealth.accounts.service import (
    check_password_policy,
    normalize_email,
    spend_one_time_token,
    token_hash,
)
from telehealth.auth.tokens import revoke_all_for_user
from telehealth.db import utcnow
from telehealth.errors import Unauthorized, UnprocessableEntity
from telehealth.outbound.events import emit
from telehealth.outbound.models import EventType
from telehealth.passwords.models import PasswordReset


def change_password(
    session: Session,
    user: User,
    *,
    current_password: str,
    new_password: str,
    family_id: uuid.UUID,
) -> None:
    """A new password for a signed-in user who proves they know the current one; their other
    sign-ins end, the one of `family_id` (the caller's) stays."""
    if not verify_password(user.password_hash, current_password):
        raise UnprocessableEntity(
            "The current password is wrong.",
            errors={"current_password": "Does not match the account's password."},
        )
    check_password_policy(new_password, field="new_password")
    _set_password(session, user, new_password, reason="password_changed", keep=family_id)


def request_password_reset(session: Session, email: str) -> None:
    """Announce a reset for the account with `email`, if it is active and has a password;
    nothing otherwise. The caller answers the same either way."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.is_active or user.password_hash is None:
        return
    emit(session, EventType.ACCOUNT_PASSWORD_RESET, {"user_id": user.id}, recipients=[user.id])


def issue_password_reset(session: Session, user: User) -> tuple[str, PasswordReset]:
    """A new one-time reset token for `user`, valid for `PASSWORD_RESET_TTL`: the token (for
    the email, never stored) and its row (only the token's hash)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    reset = PasswordReset(
        user=user,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + current_app.config["PASSWORD_RESET_TTL"],
    )
    session.add(reset)
    return token, reset


def reset_password(session: Session, *, token: str, password: str) -> User:
    """Spend an unused, unexpired reset token on a new password. One answer for a token that
    is unknown, used or expired, or whose account has been deactivated since."""
    check_password_policy(password)
    user = spend_one_time_token(session, PasswordReset, token)
    if user is None:
        raise Unauthorized("The reset link is invalid, used or expired.")
    _set_password(session, user, password, reason="password_reset")
    return user


def _set_password(
    session: Session, user: User, password: str, *, reason: str, keep: uuid.UUID | None = None
) -> None:
    user.password_hash = hash_password(password)
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )
    revoke_all_for_user(session, user.id, reason=reason, keep=keep)
