"""An app on its own database with real commits, for tests where requests race each other."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask_migrate import upgrade

from config import load_config
from telehealth import create_app
from telehealth.extensions import db
from tests.databases import temporary_database


@pytest.fixture
def committed_app() -> Iterator[Flask]:
    with temporary_database("telehealth_race") as url:
        app = create_app(load_config("test", DATABASE_URL=url))
        with app.app_context():
            upgrade()
        yield app
        with app.app_context():
            db.engine.dispose()
