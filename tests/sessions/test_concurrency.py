"""Of many simultaneous requests for one slot exactly one wins: the overlap check and the insert
happen under locks, not as a read-then-write race. These tests need real concurrent
transactions, so they run against their own database (not the per-test rolled-back one)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from telehealth.accounts.models import Role
from telehealth.extensions import db
from tests.databases import app_on_own_database
from tests.factories import make_patient, make_user, sign_in
from tests.sessions.helpers import (
    API,
    SESSIONS,
    act,
    count_sessions,
    etag,
    patch,
    schedule,
    scheduled,
)
from tests.threads import all_at_once

# The issue asks for at least 20 simultaneous requests for one slot.
RACERS = 24


@pytest.fixture(scope="module")
def race_app() -> Iterator[Flask]:
    with app_on_own_database("telehealth_race") as app:
        yield app


@pytest.fixture
def clean(race_app):
    """The race database, emptied of sessions before each test (its users stay; each test
    makes its own)."""
    with race_app.app_context(), db.begin() as session:
        session.execute(db.metadata.tables["session_transitions"].delete())
        session.execute(db.metadata.tables["treatment_sessions"].delete())
    return race_app


def test_one_clinician_booking_many_patients_into_one_slot(clean):
    app = clean
    clinician = make_user(app, Role.CLINICIAN, name="Dr. Race")
    patients = [str(make_patient(app, clinician, name=f"Pat {i}").id) for i in range(RACERS)]
    actor = sign_in(app, clinician)

    statuses = all_at_once(
        [lambda p=p: schedule(app.test_client(), actor, p).status_code for p in patients]
    )

    assert sorted(statuses) == [201] + [409] * (RACERS - 1)
    assert count_sessions(app) == 1


def test_many_clinicians_booking_one_patient_into_one_slot(clean):
    app = clean
    first = make_user(app, Role.CLINICIAN, name="Dr. First")
    patient = str(make_patient(app, first, name="Pat Shared").id)
    clinicians = [sign_in(app, first)]
    admin = sign_in(app, make_user(app, Role.ADMIN))
    client = app.test_client()
    for i in range(RACERS - 1):
        colleague = make_user(app, Role.CLINICIAN, name=f"Dr. Colleague {i}")
        added = client.put(
            f"{API}/patients/{patient}/care-team/{colleague.id}", headers=admin.headers
        )
        assert added.status_code == 200
        clinicians.append(sign_in(app, colleague))

    statuses = all_at_once(
        [lambda c=c: schedule(app.test_client(), c, patient).status_code for c in clinicians]
    )

    assert sorted(statuses) == [201] + [409] * (RACERS - 1)
    assert count_sessions(app) == 1


def test_rescheduling_two_sessions_into_one_free_slot(clean):
    app = clean
    clinician = make_user(app, Role.CLINICIAN, name="Dr. Shuffle")
    one = str(make_patient(app, clinician, name="Pat One").id)
    two = str(make_patient(app, clinician, name="Pat Two").id)
    actor = sign_in(app, clinician)
    client = app.test_client()
    sessions = [
        scheduled(client, actor, one, "2026-12-01T15:00:00Z")["id"],
        scheduled(client, actor, two, "2026-12-01T18:00:00Z")["id"],
    ]
    tags = [etag(client, actor, s) for s in sessions]
    target = {"scheduled_start": "2026-12-02T09:00:00Z"}

    statuses = all_at_once(
        [
            lambda s=s, t=t: patch(app.test_client(), actor, s, target, t).status_code
            for s, t in zip(sessions, tags, strict=True)
        ]
    )

    assert sorted(statuses) == [200, 409]


def test_the_same_move_sent_twice_at_once_applies_once(clean):
    app = clean
    clinician = make_user(app, Role.CLINICIAN, name="Dr. Twice")
    patient = str(make_patient(app, clinician, name="Pat Twice").id)
    actor = sign_in(app, clinician)
    session_id = scheduled(app.test_client(), actor, patient)["id"]

    responses = all_at_once(
        [lambda: act(app.test_client(), actor, session_id, "start") for _ in range(RACERS)]
    )

    assert sorted(r.status_code for r in responses) == [200] + [409] * (RACERS - 1)
    final = app.test_client().get(f"{SESSIONS}/{session_id}", headers=actor.headers)
    assert len(final.get_json()["transitions"]) == 1
