"""Fixtures of the hardening tests: a scene with one of each record the write routes act on."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.hardening.hardening_helpers import Scene, build_scene


@pytest.fixture
def scene(client: FlaskClient, world: Any) -> Scene:
    return build_scene(client, world)
