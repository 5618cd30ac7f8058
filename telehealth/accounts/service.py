"""Creating accounts, inviting them in, and checking who is signing in."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from telehealth.accounts.models import Invitation, Role, User
from telehealth.accounts.passwords import hash_password, needs_rehash, verify_password
from telehealth.auth.tokens import revoke_all_for_user
from telehealth.db import utcnow
from telehealth.errors import Conflict, NotFound, Unauthorized, UnprocessableEntity
from telehealth.pagination import Page, SortKey, keyset_page
from telehealth.patients.care_teams import refuse_leaving_patients_unwatched

if TYPE_CHECKING:
    from telehealth.passwords.models import PasswordReset

T = TypeVar("T")


@dataclass(frozen=True)
class Invited(Generic[T]):
    """A new record and the invitation token to hand to its owner (shown once, never stored):
    what `accounts.schemas.InvitedOut` writes."""

    record: T
    invitation_token: str


def normalize_email(email: str) -> str:
    return email.strip().lower()


def token_hash(token: str) -> str:
    """What is stored of a one-time token (an invitation's, a password reset's): its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def spend_one_time_token(
    session: Session, model: type[Invitation] | type[PasswordReset], token: str
) -> User | None:
    """The active user whose unused, unexpired token of `model` this is, spending it; None
    otherwise. One conditional UPDATE, so two requests with the same token cannot both spend
    it."""
    now = utcnow()
    user_id = session.execute(
        update(model)
        .where(
            model.token_hash == token_hash(token),
            model.used_at.is_(None),
            model.expires_at > now,
        )
        .values(used_at=now)
        .returning(model.user_id)
    ).scalar_one_or_none()
    user = session.get(User, user_id) if user_id is not None else None
    return user if user is not None and user.is_active else None


def flush_unique_email(session: Session) -> None:
    """Flush, answering 409 when the email is already another account's (the unique index)."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(
            "An account with this email already exists.", errors={"email": "Already in use."}
        ) from None


def new_user(session: Session, *, role: Role, email: str, name: str) -> User:
    user = User(role=role, email=normalize_email(email), name=name.strip())
    session.add(user)
    flush_unique_email(session)
    return user


def invite(session: Session, user: User) -> str:
    """A fresh one-time token for `user` (only its hash is kept) and, when email is configured,
    an invitation email: an `account.invited` event in this transaction, whose email carries a
    token of its own, issued when it is sent (`issue_invitation`), so no token sits in the
    outbox."""
    token, _invitation = issue_invitation(session, user)
    if current_app.config.get("SMTP_URL"):
        # The outbox builds on the accounts: imported here, not above.
        from telehealth.outbound.events import emit
        from telehealth.outbound.models import EventType

        emit(session, EventType.ACCOUNT_INVITED, {"user_id": user.id}, recipients=[user.id])
    return token


def issue_invitation(session: Session, user: User) -> tuple[str, Invitation]:
    """A new one-time invitation for `user`, valid for `INVITATION_TTL`: its token (shown once,
    never stored) and its row (only the token's hash). Using any one of a user's invitations
    ends the others (`activate`)."""
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        user=user,
        token_hash=token_hash(token),
        expires_at=utcnow() + current_app.config["INVITATION_TTL"],
    )
    session.add(invitation)
    return token, invitation


def create_clinician(session: Session, *, email: str, name: str) -> Invited[User]:
    user = new_user(session, role=Role.CLINICIAN, email=email, name=name)
    return Invited(user, invite(session, user))


def create_admin(session: Session, *, email: str, name: str, password: str) -> User:
    check_password_policy(password)
    user = new_user(session, role=Role.ADMIN, email=email, name=name)
    user.password_hash = hash_password(password)
    return user


def check_password_policy(password: str, *, field: str = "password") -> None:
    """The one rule for every new password (activation, change, reset), named by `field`."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum or not password.strip():
        raise UnprocessableEntity(
            "The password is too weak.",
            errors={field: f"Use at least {minimum} characters."},
        )


def activate(session: Session, *, token: str, password: str) -> User:
    """Exchange an unused, unexpired invitation for a password. A token works once."""
    check_password_policy(password)
    user = spend_one_time_token(session, Invitation, token)
    if user is None:
        raise Unauthorized("The invitation is invalid, used or expired.")
    # A user may hold several invitations (the answer's and each invitation email's): once one
    # is used, none of the others may set the password again.
    session.execute(
        update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
        .values(used_at=utcnow())
    )
    user.password_hash = hash_password(password)
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    """The active user with this email and password; one answer for every kind of failure."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active or user.password_hash is None:
        raise Unauthorized("Invalid email or password.")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def list_users(
    session: Session, *, role: Role, limit: int, cursor: str | None = None
) -> Page[User]:
    return keyset_page(
        session,
        select(User).where(User.role == role),
        [SortKey(User.name, "name"), SortKey(User.id, "id")],
        limit=limit,
        cursor=cursor,
    )


def deactivate(session: Session, actor: User, user_id: uuid.UUID) -> User:
    """Offboard an account: it cannot sign in and its tokens stop working at once (every token
    family is revoked, and the per-request user check refuses inactive users), and so does its
    calendar feed URL (`revoke_all_for_user` deletes it). Nothing of the
    record is deleted. Doing it again changes nothing. A clinician who is the last active
    clinician of any patient stays active (409 naming the patients) until another joins."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("No such user.")
    if user.id == actor.id:
        raise Conflict("You cannot deactivate your own account; ask another admin.")
    if user.is_active and user.role is Role.CLINICIAN:
        refuse_leaving_patients_unwatched(session, user.id)
    if user.is_active:
        user.is_active = False
        user.deactivated_at = utcnow()
        revoke_all_for_user(session, user.id, reason="deactivated")
        session.flush()
    return user
