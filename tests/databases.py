"""Throwaway databases for tests: a SQLite file, or a fresh PostgreSQL database that is dropped
afterwards. `TEST_DATABASE_URL` (a PostgreSQL server URL) selects PostgreSQL."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from config import load_config
from telehealth import create_app
from telehealth.extensions import db

SERVER_URL = os.environ.get("TEST_DATABASE_URL", "")


def backend() -> str:
    return "postgresql" if SERVER_URL.startswith("postgres") else "sqlite"


@contextmanager
def temporary_database(prefix: str = "telehealth_test") -> Iterator[str]:
    """Yield the URL of a new, empty database of the configured backend; remove it after."""
    if backend() == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'test.sqlite3'}"
        return
    server = make_url(SERVER_URL).set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    # No pool: a connection kept from before a PostgreSQL restart (the fault tests restart it)
    # would be dead by the time the database is dropped.
    admin = create_engine(
        server.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def app_on_own_database(prefix: str, **settings: object) -> Iterator[Flask]:
    """An app on a migrated database of its own, whose commits are real (the suite's `app`
    fixture turns them into savepoints): for tests of concurrent transactions."""
    with temporary_database(prefix) as url:
        app = create_app(load_config("test", DATABASE_URL=url, **settings))
        with app.app_context():
            upgrade()
        try:
            yield app
        finally:
            with app.app_context():
                db.engine.dispose()
