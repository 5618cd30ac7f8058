"""Fixtures of the webhook tests: no DNS lookups at all, and a real receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.webhooks.helpers import resolver
from tests.webhooks.receiver import Receiver


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The URL check resolves IP literals and `localhost` only; a test maps other names."""
    monkeypatch.setattr("telehealth.webhooks.urls.getaddrinfo", resolver())


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running
