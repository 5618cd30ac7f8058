"""Fixtures of the check-in tests: a frozen clock (set before `world` signs everyone in, so
tokens are valid at the frozen moment) and a treatment session of the world's patient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient

from tests.checkins.checkin_helpers import NOW, schedule_session


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """The clock frozen at NOW, moved only by the test. Ask for it before `world`."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def session_id(client: FlaskClient, world: Any) -> str:
    """A session of world.patient, scheduled by world.clinician (their care team)."""
    return schedule_session(client, world.clinician, world.patient)
