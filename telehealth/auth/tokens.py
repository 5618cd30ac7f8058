"""Token pairs, rotation and revocation. Every check reads the database, never process memory,
so a logout on one instance holds on every other at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from telehealth import context
from telehealth.accounts.models import User
from telehealth.auth.models import TokenFamily
from telehealth.calendar import service as calendar
from telehealth.db import utcnow
from telehealth.errors import BEARER_CHALLENGE, Unauthorized
from telehealth.extensions import db, jwt


class RefreshTokenReused(Unauthorized):
    """A spent refresh token came back: revoke its family, and keep that revocation."""

    keep_changes = True

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        # RFC 6750, like every other bad token: the app learns to sign in again.
        self.headers["WWW-Authenticate"] = (
            f'{BEARER_CHALLENGE}, error="invalid_token", '
            'error_description="The refresh token was already used"'
        )


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


def _new_jti() -> str:
    return uuid.uuid4().hex


def _pair(user: User, family_id: uuid.UUID, refresh_jti: str) -> TokenPair:
    identity = str(user.id)
    claims = {"fam": str(family_id), "role": user.role.value}
    access_ttl = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return TokenPair(
        access_token=create_access_token(identity=identity, additional_claims=claims),
        refresh_token=create_refresh_token(
            identity=identity, additional_claims={**claims, "jti": refresh_jti}
        ),
        expires_in=int(access_ttl.total_seconds()),
    )


def issue_tokens(session: Session, user: User) -> TokenPair:
    """Start a new token family for a fresh sign-in."""
    family = TokenFamily(
        user=user,
        current_jti=_new_jti(),
        expires_at=utcnow() + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"],
    )
    session.add(family)
    session.flush()
    return _pair(user, family.id, family.current_jti)


def rotate_tokens(session: Session, user: User, claims: dict[str, Any]) -> TokenPair:
    """Spend the presented refresh token and hand out the family's next pair.

    The swap is one conditional UPDATE, so two concurrent uses of one token cannot both win.
    The losers (and a retry soon after) get the winner's pair again, if they come within the
    grace window; otherwise the token was reused, and its family is revoked.
    """
    family_id = uuid.UUID(claims["fam"])
    new_jti = _new_jti()
    now = utcnow()
    live = (
        TokenFamily.id == family_id,
        TokenFamily.revoked_at.is_(None),
        TokenFamily.expires_at > now,
    )
    swapped = session.execute(
        update(TokenFamily)
        .where(*live, TokenFamily.current_jti == claims["jti"])
        .values(current_jti=new_jti, previous_jti=claims["jti"], rotated_at=now)
        .returning(TokenFamily.id)
    ).scalar_one_or_none()
    if swapped is not None:
        return _pair(user, family_id, new_jti)
    # A statement of its own: on PostgreSQL it sees what a concurrent winner committed.
    grace = timedelta(seconds=current_app.config["REFRESH_REUSE_GRACE_SECONDS"])
    current = session.scalar(
        select(TokenFamily.current_jti).where(
            *live, TokenFamily.previous_jti == claims["jti"], TokenFamily.rotated_at >= now - grace
        )
    )
    if current is not None:
        return _pair(user, family_id, current)
    revoke_family(session, family_id, reason="refresh_reuse")
    raise RefreshTokenReused("The refresh token was already used; sign in again.")


def revoke_family(session: Session, family_id: uuid.UUID, *, reason: str) -> None:
    session.execute(
        update(TokenFamily)
        .where(TokenFamily.id == family_id, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def revoke_all_for_user(
    session: Session, user_id: uuid.UUID, *, reason: str, keep: uuid.UUID | None = None
) -> None:
    """End every sign-in of the user, but the family `keep` (the caller's own, when they
    changed their password). Their calendar feed URL ends too, `keep` or not: whoever signed in
    elsewhere may have subscribed to it."""
    calendar.revoke(session, user_id)
    statement = update(TokenFamily).where(
        TokenFamily.user_id == user_id, TokenFamily.revoked_at.is_(None)
    )
    if keep is not None:
        statement = statement.where(TokenFamily.id != keep)
    session.execute(statement.values(revoked_at=utcnow(), revoked_reason=reason))


#: Built once: every authenticated request runs it, and building a statement costs more
#: than running this one.
CURRENT_USER = (
    select(User)
    .join(TokenFamily, TokenFamily.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        User.is_active.is_(True),
        TokenFamily.id == bindparam("family_id"),
        TokenFamily.revoked_at.is_(None),
        # A sign-in ends when its family does, even for a token whose own expiry is later.
        TokenFamily.expires_at > bindparam("now"),
    )
)


@jwt.user_lookup_loader
def load_current_user(_header: dict[str, Any], claims: dict[str, Any]) -> User | None:
    """The caller, in one query: an active user whose token family is neither revoked nor
    expired."""
    try:
        user_id = uuid.UUID(claims["sub"])
        family_id = uuid.UUID(claims["fam"])
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    user = db.session.scalar(
        CURRENT_USER, {"user_id": user_id, "family_id": family_id, "now": utcnow()}
    )
    context.set_current_actor(user)
    return user
