"""The email channel: every event's recipients who are active users get an email, over SMTP,
when `SMTP_URL` is set (unset: no email deliveries at all).

The worker calls `targets` when it fans an event out, then for each delivery `prepare` inside a
transaction (it reads the address and, for an invitation or a password reset, issues a fresh
token: the outbox never holds one) and the returned `send` with no transaction open.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from telehealth.accounts.models import User
from telehealth.accounts.service import issue_invitation
from telehealth.db import utcnow
from telehealth.mail import sender
from telehealth.mail.messages import Email, InvitationLink, PasswordResetLink, compose
from telehealth.outbound.channels import Sent
from telehealth.outbound.models import Channel, Delivery, EventType, OutboxEvent
from telehealth.outbound.registry import register
from telehealth.passwords.service import issue_password_reset


class EmailChannel:
    name = Channel.EMAIL

    @property
    def retry_delays(self) -> list[timedelta]:
        """`MAIL_RETRY_DELAYS_SECONDS`, read when asked (default 30 s, 2 min, 10 min, 1 h, 6 h)."""
        return [
            timedelta(seconds=seconds)
            for seconds in current_app.config["MAIL_RETRY_DELAYS_SECONDS"]
        ]

    def targets(self, session: Session, event: OutboxEvent) -> list[uuid.UUID]:
        """The event's recipients who are active users; nobody when email is not configured."""
        if not current_app.config.get("SMTP_URL") or not event.recipients:
            return []
        wanted = [uuid.UUID(user_id) for user_id in event.recipients]
        return list(
            session.scalars(
                select(User.id)
                .where(User.id.in_(wanted), User.is_active.is_(True))
                .order_by(User.id)
            )
        )

    def prepare(
        self, session: Session, delivery: Delivery, event: OutboxEvent
    ) -> Callable[[], Sent]:
        config = current_app.config
        if not config.get("SMTP_URL"):
            return _refused("email is not configured")
        smtp = sender.SmtpSettings.from_url(config["SMTP_URL"])
        user = session.get(User, delivery.target_id)
        if user is None or not user.is_active:
            return _refused("the recipient is inactive or gone")
        invitation = None
        if event.type is EventType.ACCOUNT_INVITED:
            if user.password_hash is not None:
                return _refused("the account is already activated")
            # A token of this email's own, written in the worker's transaction.
            token, row = issue_invitation(session, user)
            invitation = InvitationLink(token=token, expires_at=row.expires_at)
        password_reset = None
        if event.type is EventType.ACCOUNT_PASSWORD_RESET:
            if user.password_hash is None:
                return _refused("the account is not activated")
            if event.created_at + config["PASSWORD_RESET_TTL"] <= utcnow():
                # Asked for longer ago than a link would live: whoever asked has moved on.
                return _refused("the reset request expired")
            token, reset = issue_password_reset(session, user)
            password_reset = PasswordResetLink(token=token, expires_at=reset.expires_at)
        email = compose(
            event.type,
            event.data,
            user.role,
            public_url=config["PUBLIC_URL"],
            invitation=invitation,
            password_reset=password_reset,
        )
        message = build_message(
            email, to=user.email, mail_from=config["MAIL_FROM"], message_id=delivery.id
        )
        timeout = float(config["SMTP_TIMEOUT_SECONDS"])

        def send() -> Sent:
            try:
                sender.send(message, smtp, timeout=timeout)
            except sender.MailError as error:
                return Sent(False, error=error.reason)
            return Sent(True)

        return send


def build_message(email: Email, *, to: str, mail_from: str, message_id: uuid.UUID) -> EmailMessage:
    """The message itself: plain text, marked as sent automatically (no auto-replies), with a
    Message-ID that is the delivery's, so a retry is recognisably the same message."""
    address = sender.mail_from_address(mail_from) or "no-reply@localhost"
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = f"<{message_id}@{address.rpartition('@')[2]}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.body)
    return message


def _refused(reason: str) -> Callable[[], Sent]:
    """A send for a delivery that can never go out: failed for good at once."""
    return lambda: Sent(False, error=reason, final=True)


#: The one email channel, in `telehealth.outbound.registry.CHANNELS` once this module is
#: imported (`telehealth.models` imports it).
channel = register(EmailChannel())
