"""Changing one's own password, and resetting a forgotten one by email."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, request
from flask_jwt_extended import get_jwt
from flask_smorest import Blueprint

from telehealth import context
from telehealth.accounts.service import normalize_email
from telehealth.audit.context import audit_resource, audited
from telehealth.auth import tokens
from telehealth.auth.roles import authenticated, me
from telehealth.auth.schemas import TokenPairOut
from telehealth.extensions import db, limiter
from telehealth.net import client_address
from telehealth.openapi.marks import RATE_LIMITED
from telehealth.passwords import service
from telehealth.passwords.schemas import (
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    PasswordResetRequestedOut,
)

blp = Blueprint(
    "passwords", __name__, url_prefix="/api/v1", description="Changing and resetting passwords"
)
PUBLIC: dict[str, Any] = {"security": []}

#: The one answer to every reset request, whether or not an account has the address.
RESET_REQUESTED = {
    "detail": "If an active account uses this email address, a link to choose a new password "
    "is on its way to it."
}


def _caller_key() -> str:
    return f"user:{me().id}"


def _reset_email_key() -> str:
    """One email address, from every client address: nobody can flood someone's inbox."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    if isinstance(email, str) and email:
        return "email:" + normalize_email(email)[:254]
    return "address:" + client_address()


@blp.post("/me/password")
@audited("auth.password_change", "user")
@authenticated()
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ADDRESS"], key_func=client_address)
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"],
    key_func=_caller_key,
    scope="password-change-account",
)
@blp.arguments(PasswordChangeIn())
@blp.response(204)
@blp.alt_response(422, description="Invalid fields, or `current_password` is wrong.")
@blp.doc(operationId="changePassword", **RATE_LIMITED)
def change_password(body: dict[str, str]) -> None:
    """Change the caller's password, giving the current one (422 naming `current_password`
    when it is wrong; limited like sign-in, 429). Every other sign-in of the account ends; this
    one stays."""
    audit_resource(resource_id=me().id)
    service.change_password(db.session, me(), family_id=uuid.UUID(get_jwt()["fam"]), **body)


@blp.post("/auth/password-reset")
@audited("auth.password_reset_request", "user")
@limiter.limit(
    lambda: current_app.config["PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS"], key_func=client_address
)
@limiter.limit(
    lambda: current_app.config["PASSWORD_RESET_RATE_LIMIT_PER_EMAIL"],
    key_func=_reset_email_key,
    scope="password-reset-email",
)
@blp.arguments(PasswordResetIn())
@blp.response(202, PasswordResetRequestedOut)
@blp.doc(operationId="requestPasswordReset", **PUBLIC, **RATE_LIMITED)
def request_password_reset(body: dict[str, str]) -> Any:
    """Ask for a password reset link by email. The answer is the same whether or not an
    account uses the address: only the owner of an active account learns anything, from the
    email, whose link (`/reset-password?token=...`) works once, within
    `PASSWORD_RESET_TTL_MINUTES`. Limited per client address and per email address (429)."""
    service.request_password_reset(db.session, body["email"])
    return RESET_REQUESTED


@blp.post("/auth/password-reset/confirm")
@audited("auth.password_reset", "user")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ADDRESS"], key_func=client_address)
@blp.arguments(PasswordResetConfirmIn())
@blp.response(200, TokenPairOut)
@blp.alt_response(401, description="The reset token is invalid, used or expired.")
@blp.doc(operationId="confirmPasswordReset", **PUBLIC, **RATE_LIMITED)
def reset_password(body: dict[str, str]) -> tokens.TokenPair:
    """Choose a new password with the token of a reset email, and sign in. The token works
    once; an unknown, used or expired one gets the same 401. Every other sign-in of the
    account ends, and so does any other reset link."""
    user = service.reset_password(db.session, **body)
    context.set_current_actor(user)
    audit_resource(resource_id=user.id)
    return tokens.issue_tokens(db.session, user)
