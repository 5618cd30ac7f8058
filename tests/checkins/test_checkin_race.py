"""A phone that fires the same check-in many times at once (a flaky network, a retry loop)
stores one check-in and raises one alert: the Idempotency-Key row is claimed under a unique
constraint in the request's own transaction, so the copies wait for the first and replay it.
This needs real concurrent transactions, so it runs against its own committed database."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
from flask import Flask
from sqlalchemy import event, select
from werkzeug.test import TestResponse

from telehealth.accounts.models import Role
from telehealth.alerts.models import SafetyAlert
from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.extensions import db
from telehealth.idempotency import IdempotencyRecord
from tests.checkins.checkin_helpers import (
    IDEMPOTENCY_KEY,
    REPLAYED,
    checkin_body,
    count,
    post_checkin,
)
from tests.databases import app_on_own_database
from tests.factories import make_patient, make_user, sign_in
from tests.threads import all_at_once

# The brief asks for 50 copies of one submission at once.
RACERS = 50
#: PHQ-9 with item 9 (thoughts of self-harm) answered 2: one suicidal-ideation alert.
PHQ9_ITEM9_TWO = [1, 1, 0, 1, 0, 0, 0, 0, 2]

T = TypeVar("T")


@pytest.fixture(scope="module")
def race_app() -> Iterator[Flask]:
    # Every racer holds a connection while it waits for the first: give the pool room for all
    # of them (the default is 10 + 10 with a 5 s timeout).
    with app_on_own_database(
        "telehealth_checkin_race",
        DATABASE_POOL_SIZE=RACERS,
        DATABASE_MAX_OVERFLOW=5,
        DATABASE_POOL_TIMEOUT=30,
    ) as app:
        yield app


@contextmanager
def overlap(app: Flask) -> Iterator[list[int]]:
    """Track the most database connections checked out at once while the block runs: proof
    that the requests really ran side by side. Yields a one-item list filled in at the end."""
    with app.app_context():
        engine = db.engine
    lock, state, peak = threading.Lock(), {"now": 0, "max": 0}, [0]

    def checked_out(*_args: Any) -> None:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])

    def checked_in(*_args: Any) -> None:
        with lock:
            state["now"] -= 1

    event.listen(engine, "checkout", checked_out)
    event.listen(engine, "checkin", checked_in)
    try:
        yield peak
    finally:
        event.remove(engine, "checkout", checked_out)
        event.remove(engine, "checkin", checked_in)
        peak[0] = state["max"]


def test_fifty_copies_of_one_check_in_store_one_and_alert_once(race_app):
    app = race_app
    clinician = make_user(app, Role.CLINICIAN, name="Dr. Race")
    patient = sign_in(app, make_patient(app, clinician, name="Pat Retry").user)
    body = checkin_body(mood=2, note="Bad night.", instruments={"PHQ-9": PHQ9_ITEM9_TWO})
    key = "race-checkin-0001"

    def send() -> TestResponse:
        return post_checkin(app.test_client(), patient, body, key=key)

    with overlap(app) as peak:
        responses = all_at_once([send for _ in range(RACERS)])

    statuses = [r.status_code for r in responses]
    assert statuses == [201] * RACERS, [r.get_json() for r in responses if r.status_code != 201]
    bodies = {r.get_data() for r in responses}
    assert len(bodies) == 1, bodies
    answer: dict[str, Any] = responses[0].get_json()
    assert {r.get_json()["id"] for r in responses} == {answer["id"]}
    assert answer["patient_id"] == patient.id
    assert [alert["kind"] for alert in answer["alerts"]] == ["suicidal_ideation"]
    assert "988" in answer["crisis_message"]
    replayed = [r.headers.get(REPLAYED) for r in responses]
    assert replayed.count("true") == RACERS - 1
    assert replayed.count(None) == 1
    assert peak[0] > 1, "the requests did not overlap"
    print(f"\n50-way race: statuses {sorted(set(statuses))}, peak connections {peak[0]}")

    patient_id = patient.user.id
    assert count(app, MoodCheckIn, patient_id=patient_id) == 1
    assert count(app, InstrumentScore, patient_id=patient_id) == 1
    assert count(app, SafetyAlert, patient_id=patient_id) == 1
    assert count(app, IdempotencyRecord, user_id=patient_id) == 1
    with app.app_context():
        alert = db.session.scalars(
            select(SafetyAlert).where(SafetyAlert.patient_id == patient_id)
        ).one()
        assert str(alert.id) == answer["alerts"][0]["id"]
        assert str(alert.source_id) == answer["id"]

    # A retry after the storm is one more replay of the same answer.
    late = post_checkin(app.test_client(), patient, body, key=key)
    assert late.status_code == 201
    assert late.headers[REPLAYED] == "true"
    assert late.get_data() in bodies
    assert count(app, MoodCheckIn, patient_id=patient_id) == 1


def test_fifty_copies_under_fifty_keys_store_fifty(race_app):
    """The contrast: without a shared key every copy is its own check-in, so the single row
    above is the key's doing, not an accident of timing."""
    app = race_app
    clinician = make_user(app, Role.CLINICIAN, name="Dr. Many")
    patient = sign_in(app, make_patient(app, clinician, name="Pat Many").user)
    body = checkin_body(mood=5)

    responses = all_at_once(
        [
            lambda i=i: post_checkin(app.test_client(), patient, body, key=f"many-{i}")
            for i in range(RACERS)
        ]
    )

    assert [r.status_code for r in responses] == [201] * RACERS
    assert len({r.get_json()["id"] for r in responses}) == RACERS
    assert all(IDEMPOTENCY_KEY not in r.headers and REPLAYED not in r.headers for r in responses)
    assert count(app, MoodCheckIn, patient_id=patient.user.id) == RACERS
