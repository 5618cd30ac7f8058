"""SMTP over the standard library, against a real server on loopback: `SMTP_URL` read right,
one message sent, and every failure told in our own words, never with an address."""

from __future__ import annotations

import time
from email.message import EmailMessage

import pytest

from telehealth.mail.sender import MailError, SmtpSettings, mail_from_address, send
from tests.mail.smtp_server import closed_port, running_smtp_server, silent_server

TO = "someone.private@example.test"


def message() -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Telehealth <no-reply@clinic.example>"
    mail["To"] = TO
    mail["Subject"] = "There is something to review"
    mail.set_content("Sign in to see it.")
    return mail


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:2525", SmtpSettings("127.0.0.1", 2525)),
        ("smtp://mail.example", SmtpSettings("mail.example", 25)),
        (
            "smtp+starttls://user%40x:p%3Ass@mail.example",
            SmtpSettings("mail.example", 587, "starttls", "user@x", "p:ss"),
        ),
        ("smtps://u:p@mail.example:2465/", SmtpSettings("mail.example", 2465, "tls", "u", "p")),
    ],
)
def test_smtp_url_is_read(url, expected):
    assert SmtpSettings.from_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://u:hunter2secret@mail.example",
        "smtp://u:hunter2secret@",
        "smtp://u:hunter2secret@mail.example:99999",
        "smtp://u:hunter2secret@mail.example/path",
        "smtp://u:hunter2secret@mail.example?x=1",
    ],
)
def test_an_unusable_smtp_url_is_refused_without_repeating_it(url):
    with pytest.raises(RuntimeError) as refused:
        SmtpSettings.from_url(url)

    assert "hunter2secret" not in str(refused.value)


def test_the_password_is_not_in_the_settings_repr():
    assert "hunter2secret" not in repr(SmtpSettings.from_url("smtp://u:hunter2secret@h:25"))


def test_mail_from_address():
    assert mail_from_address("Telehealth <no-reply@clinic.example>") == "no-reply@clinic.example"
    assert mail_from_address("no-reply@clinic.example") == "no-reply@clinic.example"
    assert mail_from_address("Telehealth") is None


def test_a_message_reaches_the_server():
    with running_smtp_server() as server:
        send(message(), SmtpSettings.from_url(server.url), timeout=5)

        [mail] = server.wait_for(1)
    assert mail.envelope_from == "no-reply@clinic.example"
    assert mail.envelope_to == [TO]
    assert mail.subject == "There is something to review"
    assert mail.body.strip() == "Sign in to see it."


def test_credentials_in_the_url_sign_in():
    with running_smtp_server(credentials=("relay", "p@ss word")) as server:
        send(message(), SmtpSettings.from_url(server.url.replace("p@ss word", "p%40ss%20word")),
             timeout=5)  # fmt: skip
        assert len(server.wait_for(1)) == 1

        with pytest.raises(MailError) as refused:
            send(message(), SmtpSettings("127.0.0.1", server.port, "plain", "relay", "wrong"),
                 timeout=5)  # fmt: skip
    assert refused.value.reason == "the server refused the credentials (535)"


def test_a_refused_recipient_is_told_without_the_address():
    """The server's reply quotes the address; our reason does not."""
    with running_smtp_server() as server:
        server.refuse_recipients_with = 550
        with pytest.raises(MailError) as refused:
            send(message(), SmtpSettings.from_url(server.url), timeout=5)
        assert server.messages == []

    assert refused.value.reason == "the server refused the recipient (550)"
    assert TO not in str(refused.value)
    assert "@" not in refused.value.reason


def test_a_server_that_is_down():
    with pytest.raises(MailError) as refused:
        send(message(), SmtpSettings("127.0.0.1", closed_port()), timeout=5)

    assert refused.value.reason == "the server refused the connection"


def test_a_server_that_never_answers_times_out():
    with silent_server() as port:
        started = time.monotonic()
        with pytest.raises(MailError) as refused:
            send(message(), SmtpSettings("127.0.0.1", port), timeout=0.5)

    assert refused.value.reason == "the server did not answer in time"
    assert time.monotonic() - started < 5


def test_starttls_required_but_not_offered_is_refused():
    """`smtp+starttls://` never falls back to plain text."""
    with running_smtp_server() as server:
        with pytest.raises(MailError) as refused:
            send(message(), SmtpSettings("127.0.0.1", server.port, "starttls"), timeout=5)
        assert server.messages == []

    assert "STARTTLS" in refused.value.reason
