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
    """Require a valid access token (or refresh token), and one of `roles` if any are named."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            verify_jwt_in_request(refresh=refresh)
            if roles and current_user.role not in roles:
                raise Forbidden("Your role may not use this route.")
            return view(*args, **kwargs)

        wrapper.allowed_roles = roles  # type: ignore[attr-defined]
        return wrapper

    return decorator


def me() -> User:
    """The authenticated caller, typed."""
    return current_user  # type: ignore[no-any-return]


def _unauthorized(*_args: Any) -> Response:
    # One answer for every token failure: clients need not (and attackers must not) learn which.
    return problem(
        401,
        "A valid access token is required.",
        headers={"WWW-Authenticate": BEARER_CHALLENGE},
    )


jwt.unauthorized_loader(_unauthorized)
jwt.invalid_token_loader(_unauthorized)
jwt.expired_token_loader(_unauthorized)
jwt.revoked_token_loader(_unauthorized)
jwt.user_lookup_error_loader(_unauthorized)
jwt.needs_fresh_token_loader(_unauthorized)
jwt.token_verification_failed_loader(_unauthorized)
