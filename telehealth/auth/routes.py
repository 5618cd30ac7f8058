"""Sign-in, token refresh, sign-out and account activation."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, request
from flask_jwt_extended import get_jwt
from flask_smorest import Blueprint

from telehealth import context
from telehealth.accounts import service as accounts
from telehealth.accounts.schemas import UserOut
from telehealth.audit.context import audit_resource, audited
from telehealth.auth import tokens
from telehealth.auth.roles import authenticated, me
from telehealth.auth.schemas import ActivateIn, LoginIn, RefreshIn, TokenPairOut
from telehealth.extensions import db, limiter
from telehealth.net import client_address
from telehealth.openapi.marks import RATE_LIMITED

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Sign-in and tokens")
PUBLIC: dict[str, Any] = {"security": []}


def _login_account() -> str | None:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    if isinstance(email, str) and email:
        return accounts.normalize_email(email)[:254]
    return None


def _login_account_key() -> str:
    """One account from one address: a stranger's guesses elsewhere never lock its owner out."""
    account = _login_account()
    if account is None:
        return "address:" + client_address()
    return f"account:{account}|address:{client_address()}"


def _login_account_ceiling_key() -> str:
    """One account from every address: guessing spread over many addresses stays slow."""
    account = _login_account()
    return "account:" + account if account is not None else "address:" + client_address()


def _signed_in(user_id: Any) -> None:
    audit_resource(resource_id=user_id)


@blp.post("/auth/login")
@audited("auth.login", "user")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ADDRESS"], key_func=client_address)
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"],
    key_func=_login_account_key,
    scope="login-account",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT_ALL_ADDRESSES"],
    key_func=_login_account_ceiling_key,
    scope="login-account-ceiling",
)
@blp.arguments(LoginIn())
@blp.response(200, TokenPairOut)
@blp.alt_response(
    401,
    description="Wrong email or password: one answer for both, and for inactive users.",
)
@blp.doc(operationId="signIn", **PUBLIC, **RATE_LIMITED)
def login(credentials: dict[str, str]) -> tokens.TokenPair:
    """Sign in with email and password.

    A wrong email and a wrong password get the same 401. Limited per client address, per
    account from one address, and (higher) per account from all addresses together (429 with
    `Retry-After`), so nobody can lock an account's owner out from elsewhere.
    """
    user = accounts.authenticate(db.session, **credentials)
    context.set_current_actor(user)
    _signed_in(user.id)
    return tokens.issue_tokens(db.session, user)


@blp.post("/auth/refresh")
@audited("auth.refresh", "user")
@authenticated(refresh=True)
@blp.arguments(RefreshIn(), required=False)
@blp.response(200, TokenPairOut)
@blp.alt_response(
    401,
    description="Not a valid refresh token; a spent one also revokes every token of its sign-in.",
)
@blp.doc(operationId="refreshTokens")
def refresh(_body: dict[str, str]) -> tokens.TokenPair:
    """Exchange a refresh token for a new pair.

    Send the refresh token as the bearer token, or in the body as `refresh_token`. The presented
    token is spent. The same token presented again within a few seconds (a retry on a bad
    network) answers the same new pair; after that, presenting a spent token revokes every
    token of its sign-in.
    """
    _signed_in(me().id)
    return tokens.rotate_tokens(db.session, me(), get_jwt())


@blp.post("/auth/logout")
@audited("auth.logout", "user")
@authenticated()
@blp.response(204)
@blp.doc(operationId="signOut")
def logout() -> None:
    """Sign out: this access token and its refresh tokens stop working at once."""
    _signed_in(me().id)
    tokens.revoke_family(db.session, uuid.UUID(get_jwt()["fam"]), reason="logout")


@blp.post("/auth/activate")
@audited("auth.activate", "user")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ADDRESS"], key_func=client_address)
@blp.arguments(ActivateIn())
@blp.response(200, TokenPairOut)
@blp.alt_response(401, description="The invitation is invalid, used or expired.")
@blp.doc(operationId="activateAccount", **PUBLIC, **RATE_LIMITED)
def activate(body: dict[str, str]) -> tokens.TokenPair:
    """Set a password with a one-time invitation token, and sign in."""
    user = accounts.activate(db.session, **body)
    context.set_current_actor(user)
    _signed_in(user.id)
    return tokens.issue_tokens(db.session, user)


@blp.get("/me")
@authenticated()
@blp.response(200, UserOut)
@blp.doc(operationId="getCurrentUser")
def whoami() -> Any:
    """The caller's own account."""
    return me()
