"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 and a free port, in a thread of its own,
keeping every message it receives.

    with running_smtp_server() as smtp:          # or the `smtp_server` fixture (tests/mail)
        app.config["SMTP_URL"] = smtp.url       # smtp://127.0.0.1:<port>
        ...
        [mail] = smtp.wait_for(1)               # waits up to 10 s for one message
        mail.subject, mail.body, mail.to, mail.raw

`refuse_recipients_with` makes it answer RCPT TO with an error (a reply that quotes the
address, as real servers do); `credentials` makes it ask for AUTH LOGIN/PLAIN. `closed_port()`
is a loopback port nobody listens on (a server that is down); `silent_server()` accepts
connections and never says a word (a server that hangs).
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the server received it."""

    envelope_from: str
    envelope_to: list[str]
    raw: bytes
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, "no text/plain part"
        return str(part.get_content())  # type: ignore[attr-defined]

    @property
    def text(self) -> str:
        """Everything that travelled, decoded: headers and body."""
        return self.raw.decode("utf-8", "replace") + "\n" + self.body


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(  # aiosmtpd names its hooks so
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        refusal = self.server.refuse_recipients_with
        if refusal is not None:
            return f"{refusal} 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.server._received(
            ReceivedMail(
                envelope_from=str(envelope.mail_from),
                envelope_to=list(envelope.rcpt_tos),
                raw=raw,
                message=parsed,
            )
        )
        return "250 Message accepted for delivery"


class SmtpServer:
    """A running server: where it is (`url`, `host`, `port`) and what it has received."""

    def __init__(self, port: int, credentials: tuple[str, str] | None = None) -> None:
        self.host = HOST
        self.port = port
        self.credentials = credentials
        #: An SMTP reply code (e.g. 550) to refuse every recipient with; None accepts them.
        self.refuse_recipients_with: int | None = None
        self._messages: list[ReceivedMail] = []
        self._arrived = threading.Condition()

    @property
    def url(self) -> str:
        """`SMTP_URL` for this server (with the credentials, when it asks for some)."""
        if self.credentials is None:
            return f"smtp://{self.host}:{self.port}"
        user, password = self.credentials
        return f"smtp://{user}:{password}@{self.host}:{self.port}"

    @property
    def messages(self) -> list[ReceivedMail]:
        """Every message received so far, oldest first (a copy)."""
        with self._arrived:
            return list(self._messages)

    def to(self, address: str) -> list[ReceivedMail]:
        """The messages whose envelope named `address`."""
        return [mail for mail in self.messages if address in mail.envelope_to]

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[ReceivedMail]:
        """Wait until at least `count` messages have arrived; all of them (AssertionError on
        timeout, saying how many came)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} email(s) within {timeout} s, got {len(self._messages)}"
                    )
                self._arrived.wait(left)
            return list(self._messages)

    def clear(self) -> None:
        with self._arrived:
            self._messages.clear()

    def _received(self, mail: ReceivedMail) -> None:
        with self._arrived:
            self._messages.append(mail)
            self._arrived.notify_all()

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and self.credentials is not None:
            user, password = self.credentials
            if auth_data.login == user.encode() and auth_data.password == password.encode():
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def free_port() -> int:
    """A loopback TCP port free at the moment of asking."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_smtp_server(credentials: tuple[str, str] | None = None) -> Iterator[SmtpServer]:
    """Start a server on a free loopback port, yield it, stop it. With `credentials`
    (user, password) it offers AUTH and accepts only those (plain text: loopback only)."""
    for attempt in range(5):
        server = SmtpServer(free_port(), credentials)
        options: dict[str, Any] = {}
        if credentials is not None:
            options = {
                "authenticator": server._authenticate,
                "auth_required": False,  # True warns without TLS; a bad login still fails
                "auth_require_tls": False,
            }
        controller = Controller(_Handler(server), hostname=HOST, port=server.port, **options)
        try:
            controller.start()
        except (OSError, RuntimeError):  # the port was taken in between: another one
            if attempt == 4:
                raise
            continue
        try:
            yield server
        finally:
            controller.stop()
        return


def closed_port() -> int:
    """A loopback port with nothing listening: connecting is refused at once."""
    return free_port()


@contextmanager
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never answers (no SMTP greeting): a
    client waits for its timeout. Yields the port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind((HOST, 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])
    finally:
        listener.close()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running SMTP server for one test (import this fixture into a conftest to use it)."""
    with running_smtp_server() as server:
        yield server
