"""Fixtures of the monitoring tests: a scheduled session of the world's patient, a note on it,
and a frozen clock for the timeline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import FrozenClock
from tests.monitoring.helpers import create_note, schedule_session

#: Where the frozen clock starts: two hours before the session's scheduled start (13:00 UTC).
CLOCK_START = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)


@pytest.fixture
def session_id(client: FlaskClient, world: Any) -> str:
    """A session of world.patient, scheduled by world.clinician (their care team)."""
    return schedule_session(client, world.clinician, world.patient)


@pytest.fixture
def note(client: FlaskClient, world: Any, session_id: str) -> dict[str, Any]:
    """A free-text note on `session_id`, written by world.clinician."""
    return create_note(client, world.clinician.headers, session_id)


@pytest.fixture
def clock(app: Flask) -> Iterator[FrozenClock]:
    """A clock frozen at CLOCK_START, moved only by the test."""
    with time_machine.travel(CLOCK_START, tick=False) as traveller:
        yield FrozenClock(app, traveller)
