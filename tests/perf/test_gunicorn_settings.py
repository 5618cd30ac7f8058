"""The production server settings (config/gunicorn.conf.py) that the benchmark relies on."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[2] / "config" / "gunicorn.conf.py"


@pytest.fixture
def settings(monkeypatch):
    for name in (
        "GUNICORN_WORKERS",
        "GUNICORN_THREADS",
        "GUNICORN_MAX_REQUESTS",
        "GUNICORN_GC_YOUNG_THRESHOLD",
    ):
        monkeypatch.delenv(name, raising=False)
    return runpy.run_path(str(CONFIG))


def test_threads_and_reuse_port(settings):
    assert settings["worker_class"] == "gthread"
    assert settings["threads"] == 4
    assert settings["reuse_port"] is True
    assert settings["accesslog"] is None  # the app logs each request itself
    # Recycled now and then, not every minute under load.
    assert settings["max_requests"] == 100_000


def test_a_worker_freezes_what_it_imported_and_collects_young_objects_less_often(settings):
    before = gc.get_threshold()
    try:
        settings["post_worker_init"](object())
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (50_000, 20, 100)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
