"""Sending one email over SMTP with the standard library (`smtplib`, `email.message`).

`SMTP_URL` says where the server is: `smtp://[user:pass@]host:port` (plain, the local relay),
`smtp+starttls://...` (STARTTLS required before anything else is said) or `smtps://...` (TLS
from the first byte). Each message is one conversation with a timeout on every network step.

What went wrong is told in a few words of our own (`MailError`): never an address and never the
server's reply text, which often quotes one ("550 <someone@...>: no such user").
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Literal
from urllib.parse import unquote, urlsplit

Security = Literal["plain", "starttls", "tls"]

#: Scheme -> (how the connection is secured, the port when the URL names none).
SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the SMTP server; the password is never shown in a repr."""

    host: str
    port: int
    security: Security = "plain"
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Read `SMTP_URL`. A RuntimeError for a URL that cannot be used, saying why without
        repeating the URL (it may hold a password)."""
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise RuntimeError("SMTP_URL must start with smtp://, smtp+starttls:// or smtps://")
        security, default_port = SCHEMES[parts.scheme]
        try:
            port = parts.port or default_port
        except ValueError:
            raise RuntimeError("SMTP_URL has an invalid port") from None
        if not parts.hostname:
            raise RuntimeError("SMTP_URL names no host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise RuntimeError("SMTP_URL is scheme://[user:password@]host:port and nothing more")
        return cls(
            host=parts.hostname,
            port=port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )


class MailError(Exception):
    """An email that was not sent. `reason` is short and names no address."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def mail_from_address(mail_from: str) -> str | None:
    """The address part of `MAIL_FROM` ("Telehealth <no-reply@clinic.example>"), or None."""
    _name, address = parseaddr(mail_from)
    return address if "@" in address else None


def send(message: EmailMessage, settings: SmtpSettings, *, timeout: float) -> None:
    """Send `message` to the addresses of its `To` header in one SMTP conversation; MailError
    when the server cannot be reached, times out, or refuses it."""
    try:
        _converse(message, settings, timeout)
    except MailError:
        raise
    except smtplib.SMTPRecipientsRefused as error:
        codes = sorted({code for code, _text in error.recipients.values()})
        raise MailError(
            f"the server refused the recipient ({codes[0] if codes else '?'})"
        ) from None
    except smtplib.SMTPSenderRefused as error:
        raise MailError(f"the server refused the sender ({error.smtp_code})") from None
    except smtplib.SMTPAuthenticationError as error:
        raise MailError(f"the server refused the credentials ({error.smtp_code})") from None
    except smtplib.SMTPNotSupportedError:
        raise MailError("the server does not offer STARTTLS or login") from None
    except smtplib.SMTPResponseException as error:
        raise MailError(f"the server answered {error.smtp_code}") from None
    except smtplib.SMTPServerDisconnected as error:
        # smtplib reports a read that timed out as a disconnection.
        if "timed out" in str(error):
            raise MailError("the server did not answer in time") from None
        raise MailError("the server closed the connection") from None
    except smtplib.SMTPException:
        raise MailError("the SMTP conversation failed") from None
    except TimeoutError:
        raise MailError("the server did not answer in time") from None
    except ssl.SSLError:
        raise MailError("the TLS handshake with the server failed") from None
    except ConnectionRefusedError:
        raise MailError("the server refused the connection") from None
    except OSError:
        raise MailError("could not reach the server") from None


def _converse(message: EmailMessage, settings: SmtpSettings, timeout: float) -> None:
    client: smtplib.SMTP
    if settings.security == "tls":
        client = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    try:
        if settings.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings.username is not None:
            client.login(settings.username, settings.password or "")
        refused = client.send_message(message)
        if refused:  # some recipients refused, others taken: ours is one address
            raise MailError("the server refused the recipient")
        # Accepted: saying goodbye may still go wrong, but the message is the server's now.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            client.quit()
    finally:
        client.close()
