"""Fixtures of the worker's end-to-end tests: real processes on the real clock.

The API and the workers these tests start run on the machine's clock, not on the suite's
travelled one (tests/conftest.py SUITE_NOW), so here the suite clock stays put: the tokens,
times and signatures the test process reads and writes must agree with the processes'.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.databases import backend
from tests.instances.live_server import SKIP_REASON, on_postgresql


@pytest.fixture(autouse=True)
def suite_clock() -> Iterator[None]:
    """The real clock (overrides the suite's travelling one for this folder)."""
    yield


#: Each test runs once per backend: SQLite (with a SQLite file as the queue) on the SQLite
#: run, PostgreSQL with Redis as the queue on the PostgreSQL run.
BACKENDS = [
    pytest.param(
        "sqlite",
        marks=pytest.mark.skipif(
            backend() != "sqlite", reason="the SQLite run (no TEST_DATABASE_URL) covers it"
        ),
        id="sqlite",
    ),
    pytest.param(
        "postgresql",
        marks=[pytest.mark.postgres, pytest.mark.skipif(not on_postgresql(), reason=SKIP_REASON)],
        id="postgresql",
    ),
]
