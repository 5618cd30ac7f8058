"""Fixtures: one migrated database per run; every test in a transaction rolled back after it."""

from __future__ import annotations

import os

# Tasks queue in memory, drained by the tests that want them run; set before the queue exists.
os.environ.setdefault("TASK_QUEUE_URL", "memory://")

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy.orm import sessionmaker

from config import load_config
from telehealth import create_app, dumping
from telehealth.accounts.models import Role
from telehealth.extensions import db, limiter
from tests.databases import temporary_database
from tests.factories import Actor, make_patient, make_user, sign_in

# Every answer the suite reads is also written by marshmallow itself and compared.
dumping.CHECK = True


#: The suite's calendar. Every test runs on a clock that starts here and ticks, so that the fixed
#: dates tests write mean the same on whatever day the suite runs: the sessions most tests book
#: for 2026-12-01 13:00 UTC start half an hour from now (so they may be started, and their
#: medication recorded, at once), and check-ins from late November are within the days a late
#: check-in is accepted.
SUITE_NOW = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def suite_clock() -> Iterator[None]:
    with time_machine.travel(SUITE_NOW, tick=True):
        yield


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with temporary_database() as url:
        yield url


@pytest.fixture(scope="session")
def migrated_app(database_url: str) -> Iterator[Flask]:
    app = create_app(load_config("test", DATABASE_URL=database_url))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(migrated_app: Flask) -> Iterator[Flask]:
    """The app, with every session bound to one connection whose transaction is rolled back
    after the test: commits inside the test become savepoints."""
    database = migrated_app.extensions["database"]
    original = database["factory"]
    connection = database["engine"].connect()
    transaction = connection.begin()
    if connection.dialect.name == "postgresql":
        # A test's transaction never commits, so the audit chain's commit-time link
        # (telehealth.audit.chain) is made at the end of each INSERT instead.
        connection.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
    db.use_factory(
        migrated_app,
        sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        ),
    )
    limiter.reset()
    try:
        yield migrated_app
    finally:
        db.use_factory(migrated_app, original)
        transaction.rollback()
        connection.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class World:
    """Two patients with separate care teams, their clinicians, a clinician on no team, an
    admin: enough to check every role against own and foreign records."""

    admin: Actor
    clinician: Actor
    other_clinician: Actor
    lone_clinician: Actor
    patient: Actor
    other_patient: Actor


@pytest.fixture
def world(app: Flask) -> World:
    admin = make_user(app, Role.ADMIN)
    clinician = make_user(app, Role.CLINICIAN, name="Dr. Alice Able")
    other_clinician = make_user(app, Role.CLINICIAN, name="Dr. Bob Baker")
    lone = make_user(app, Role.CLINICIAN, name="Dr. Lone Wolf")
    patient = make_patient(app, clinician, name="Pat Able")
    other_patient = make_patient(app, other_clinician, name="Olive Other")
    return World(
        admin=sign_in(app, admin),
        clinician=sign_in(app, clinician),
        other_clinician=sign_in(app, other_clinician),
        lone_clinician=sign_in(app, lone),
        patient=sign_in(app, patient.user),
        other_patient=sign_in(app, other_patient.user),
    )
