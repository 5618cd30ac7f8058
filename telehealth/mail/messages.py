"""What each event's email says: a pure function of the event's type, its data and the
recipient's role (plus where the app is, and an invitation's own token), so what leaves the
building can be read and tested in one place.

An email travels through servers the clinic does not run and lands in inboxes others may read,
so it says only that there is something to review and gives identifiers that open it after
signing in: never a name, a kind of alert, an answer, a score, a note or a vital sign. Only the
identifiers listed below are copied from an event, and only when they are ids (a UUID), so a
field added to an event later cannot leak through an email by accident. The in-app inbox
(`telehealth.outbound.inbox`) may say more, since reading it needs a sign-in.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from telehealth.accounts.models import Role
from telehealth.outbound.models import EventType

#: The event fields an email may name, in the order it names them, with their labels.
IDENTIFIERS = (("alert_id", "Alert"), ("session_id", "Session"), ("patient_id", "Patient"))

REVIEW_SUBJECT = "There is something to review"
REMINDER_SUBJECT = "Reminder: upcoming session"
INVITATION_SUBJECT = "You're invited to Telehealth"
PASSWORD_RESET_SUBJECT = "Reset your Telehealth password"

#: Who an escalation level reaches (the clinical reference's two levels).
ESCALATED_TO = {1: ": the care team is told again", 2: ": the clinic's on-call admins are told"}

FOOTER = (
    "This message was sent automatically. It holds no health information: what it is about "
    "can be seen only after signing in. Please do not reply to it."
)


@dataclass(frozen=True)
class Email:
    subject: str
    body: str


@dataclass(frozen=True)
class InvitationLink:
    """An invitation's own one-time token (the one secret an email may carry) and its end."""

    token: str
    expires_at: datetime


@dataclass(frozen=True)
class PasswordResetLink:
    """A password reset's own one-time token and its end."""

    token: str
    expires_at: datetime


def compose(
    event_type: EventType,
    data: Mapping[str, Any],
    role: Role,
    *,
    public_url: str,
    invitation: InvitationLink | None = None,
    password_reset: PasswordResetLink | None = None,
) -> Email:
    """The email that tells a user of `role` about an event of `event_type` with `data`."""
    base = public_url.rstrip("/")
    if event_type is EventType.ACCOUNT_INVITED:
        if invitation is None:
            raise ValueError("an invitation email needs its invitation token")
        return _invitation(role, base, invitation)
    if event_type is EventType.ACCOUNT_PASSWORD_RESET:
        if password_reset is None:
            raise ValueError("a password reset email needs its reset token")
        return _password_reset(base, password_reset)
    ids = identifiers(data)
    if event_type is EventType.SESSION_REMINDER:
        subject = REMINDER_SUBJECT
        opening = "You have a session coming up. Sign in to see when it is and what to prepare."
    elif event_type is EventType.ALERT_ESCALATED:
        level = _level(data)
        stage = f" (level {level})" if level else ""
        subject = f"Escalation{stage}: there is something to review"
        opening = (
            f"Something to review has not been acknowledged in time and has been escalated"
            f"{stage}{ESCALATED_TO.get(level or 0, '')}. Please sign in, and acknowledge it once "
            "someone has it in hand."
        )
    elif role is Role.PATIENT:
        subject = REVIEW_SUBJECT
        opening = "There is something for you in the Telehealth app. Please sign in to see it."
    else:
        subject = REVIEW_SUBJECT
        opening = "There is something to review in the Telehealth app. Please sign in to see it."
    lines = [opening, "", f"Open it: {_link(base, ids)}"]
    if ids:
        lines += ["", "Reference:"] + [f"  {label}: {value}" for label, value in _labelled(ids)]
    lines += ["", FOOTER]
    return Email(subject=subject, body="\n".join(lines) + "\n")


def identifiers(data: Mapping[str, Any]) -> dict[str, str]:
    """The event's ids an email may name: listed fields holding a UUID, nothing else."""
    found: dict[str, str] = {}
    for key, _label in IDENTIFIERS:
        value = data.get(key)
        try:
            found[key] = str(uuid.UUID(str(value))) if value is not None else ""
        except ValueError:
            found[key] = ""
        if not found[key]:
            del found[key]
    return found


def _labelled(ids: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(label, ids[key]) for key, label in IDENTIFIERS if key in ids]


def _link(base: str, ids: Mapping[str, str]) -> str:
    """Where the app opens it: the alert, else the session, else the patient's record."""
    if "alert_id" in ids:
        return f"{base}/alerts/{ids['alert_id']}"
    if "session_id" in ids:
        return f"{base}/sessions/{ids['session_id']}"
    if "patient_id" in ids:
        return f"{base}/patients/{ids['patient_id']}"
    return f"{base}/"


def _level(data: Mapping[str, Any]) -> int | None:
    level = data.get("escalation_level")
    return level if type(level) is int and level >= 1 else None


def _invitation(role: Role, base: str, invitation: InvitationLink) -> Email:
    who = (
        "Your care team has created a Telehealth account for you."
        if role is Role.PATIENT
        else "The clinic has created a Telehealth account for you."
    )
    expires = invitation.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        who,
        "",
        "To choose your password and sign in, open this link:",
        f"{base}/activate?token={quote(invitation.token, safe='')}",
        "",
        f"If the link does not open, enter this invitation code in the app: {invitation.token}",
        "",
        f"The link and the code work once, until {expires}. If you did not expect this email, "
        "you can ignore it; nothing happens until the link is used.",
        "",
        "This message was sent automatically. Please do not reply to it.",
    ]
    return Email(subject=INVITATION_SUBJECT, body="\n".join(lines) + "\n")


def _password_reset(base: str, reset: PasswordResetLink) -> Email:
    """Says only that a reset was asked for: not who asked, from where, or anything else."""
    expires = reset.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "Someone asked to reset the password of your Telehealth account.",
        "",
        "To choose a new password, open this link:",
        f"{base}/reset-password?token={quote(reset.token, safe='')}",
        "",
        f"The link works once, until {expires}. Choosing a new password signs you out "
        "everywhere else.",
        "",
        "If you did not ask for this, ignore this email: your password stays as it is.",
        "",
        "This message was sent automatically. Please do not reply to it.",
    ]
    return Email(subject=PASSWORD_RESET_SUBJECT, body="\n".join(lines) + "\n")
