"""Who may call a route. Which records they may touch is decided in the queries, not here."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import Response
from flask_jwt_extended import current_user, verify_jwt_in_request

from telehealth.accounts.models import Role, User
from telehealth.errors import BEARER_CHALLENGE, Forbidden, problem
from telehealth.extensions import jwt

P = ParamSpec("P")
R = TypeVar("R")


def authenticated(
    *roles: Role, refresh: bool = False
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Require a valid access token (or refresh token), and one of `roles` if any are named.
    A refresh token may also come in a JSON body (`refresh_token`), as OAuth clients send it.
    Its place among a route's decorators: see `telehealth.audit.context.audited`."""
    locations = ["headers", "json"] if refresh else ["headers"]

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            verify_jwt_in_request(refresh=refresh, locations=locations)
            if roles and current_user.role not in roles:
                raise Forbidden("Your role may not use this route.")
            return view(*args, **kwargs)

        wrapper.allowed_roles = roles  # type: ignore[attr-defined]
        return wrapper

    return decorator


def me() -> User:
    """The authenticated caller, typed."""
    return current_user  # type: ignore[no-any-return]


def _challenge(description: str | None = None) -> Response:
    """401 with an RFC 6750 challenge: no error code when no token came, else `invalid_token`
    and what was wrong with it, so an app knows whether to refresh or to sign in again."""
    challenge = BEARER_CHALLENGE
    if description is not None:
        challenge += f', error="invalid_token", error_description="{description}"'
    return problem(
        401, "A valid access token is required.", headers={"WWW-Authenticate": challenge}
    )


def _missing(_reason: str) -> Response:
    return _challenge()


def _invalid(_reason: str) -> Response:
    # Forged, malformed, of the wrong kind: the reason stays here (it may name a library's
    # internals); the client learns only that the token is no good.
    return _challenge("The token is invalid")


def _expired(_header: dict[str, Any], payload: dict[str, Any]) -> Response:
    kind = "refresh" if payload.get("type") == "refresh" else "access"
    return _challenge(f"The {kind} token expired")


def _revoked(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
    return _challenge("The token was revoked")


def _no_longer_valid(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
    return _challenge("The token is no longer valid")


jwt.unauthorized_loader(_missing)
jwt.invalid_token_loader(_invalid)
jwt.expired_token_loader(_expired)
jwt.revoked_token_loader(_revoked)
jwt.user_lookup_error_loader(_no_longer_valid)
jwt.needs_fresh_token_loader(_no_longer_valid)
jwt.token_verification_failed_loader(_no_longer_valid)
