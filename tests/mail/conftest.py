"""Fixtures of the email tests: a real SMTP server, and the app pointed at it."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.mail.smtp_server import SmtpServer, smtp_server

__all__ = ["email_on", "smtp_server"]


@pytest.fixture
def email_on(app: Flask, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> SmtpServer:
    """The app with `SMTP_URL` pointing at the test's SMTP server (for this test only)."""
    monkeypatch.setitem(app.config, "SMTP_URL", smtp_server.url)
    return smtp_server
