"""Changes that race cannot together leave a patient without an active clinician: a removal
counts the team after locking the patient row, a deactivation locks the rows of the
clinician's patients (in id order) before it counts, and a new patient's first clinicians are
read under a share lock. Real concurrent transactions on PostgreSQL, on a database of their own
(SQLite runs one writer at a time, so nothing races there)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from telehealth.accounts.models import Role, User
from telehealth.extensions import db
from telehealth.patients import care_teams
from telehealth.patients.models import CareTeamMember
from tests.databases import app_on_own_database, backend
from tests.factories import Actor, make_patient, make_user, sign_in
from tests.patients.helpers import API, care_team_url, patient_body
from tests.threads import all_at_once

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(backend() != "postgresql", reason="needs PostgreSQL's row locks"),
]

#: Each race is run this many times, on fresh people, so that both orders of arrival occur.
ROUNDS = 8

T = TypeVar("T")


@pytest.fixture(scope="module")
def race_app() -> Iterator[Flask]:
    with app_on_own_database("telehealth_care_team_race") as app:
        yield app


@pytest.fixture
def admin(race_app: Flask) -> Actor:
    """Signed in on the test's own clock (a module-wide token would be issued on another)."""
    return sign_in(race_app, make_user(race_app, Role.ADMIN))


def two_member_team(app: Flask, round_: int) -> tuple[str, Actor, Actor]:
    """A patient whose care team is two active clinicians, on no other team."""
    first = sign_in(app, make_user(app, Role.CLINICIAN, name=f"Dr. First {round_}"))
    second = sign_in(app, make_user(app, Role.CLINICIAN, name=f"Dr. Second {round_}"))
    patient = make_patient(app, first.user, name=f"Pat Race {round_}")
    with app.app_context(), db.begin() as session:
        session.add(CareTeamMember(patient_id=patient.id, clinician_id=second.user.id))
    return str(patient.id), first, second


def active_clinicians(app: Flask, patient_id: str) -> list[str]:
    with app.app_context():
        statement = (
            select(CareTeamMember.clinician_id)
            .join(User, User.id == CareTeamMember.clinician_id)
            .where(CareTeamMember.patient_id == patient_id, User.is_active.is_(True))
        )
        return [str(clinician_id) for clinician_id in db.session.scalars(statement)]


def nobody_unwatched(app: Flask) -> None:
    with app.app_context():
        assert care_teams.patients_without_active_clinician(db.session) == []


def remove(app: Flask, actor: Actor, patient_id: str, clinician: Actor) -> TestResponse:
    url = care_team_url(patient_id, clinician.id)
    return app.test_client().delete(url, headers=actor.headers)


def deactivate(app: Flask, admin: Actor, clinician: Actor) -> TestResponse:
    return app.test_client().post(f"{API}/users/{clinician.id}/deactivate", headers=admin.headers)


def create(app: Flask, admin: Actor, body: dict[str, object]) -> TestResponse:
    return app.test_client().post(f"{API}/patients", json=body, headers=admin.headers)


def refusal_names(response: TestResponse, patient_id: str) -> None:
    assert response.status_code == 409, response.get_data(as_text=True)
    assert response.get_json()["patient_ids"] == [patient_id]


def test_both_clinicians_of_a_two_member_team_removing_themselves_at_once(race_app):
    app = race_app
    for round_ in range(ROUNDS):
        patient_id, first, second = two_member_team(app, round_)

        responses = all_at_once(
            [
                lambda p=patient_id, c=first: remove(app, c, p, c),
                lambda p=patient_id, c=second: remove(app, c, p, c),
            ]
        )

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [204, 409], [r.get_data(as_text=True) for r in responses]
        refusal_names(next(r for r in responses if r.status_code == 409), patient_id)
        stayed = [
            c.id for c, r in zip((first, second), responses, strict=True) if r.status_code == 409
        ]
        assert active_clinicians(app, patient_id) == stayed
    nobody_unwatched(app)


def test_a_removal_and_a_deactivation_at_once(race_app, admin):
    """One clinician leaves the team while an admin deactivates the other: one of the two is
    refused, whichever came second."""
    app = race_app
    for round_ in range(ROUNDS):
        patient_id, leaving, deactivated = two_member_team(app, round_ + 100)

        removal, deactivation = all_at_once(
            [
                lambda p=patient_id, c=leaving: remove(app, c, p, c),
                lambda c=deactivated: deactivate(app, admin, c),
            ]
        )

        statuses = (removal.status_code, deactivation.status_code)
        assert statuses in ((204, 409), (409, 200)), statuses
        refused = removal if removal.status_code == 409 else deactivation
        refusal_names(refused, patient_id)
        assert len(active_clinicians(app, patient_id)) == 1
    nobody_unwatched(app)


def test_deactivating_both_clinicians_of_a_team_at_once(race_app, admin):
    app = race_app
    for round_ in range(ROUNDS):
        patient_id, first, second = two_member_team(app, round_ + 200)

        responses = all_at_once(
            [lambda c=first: deactivate(app, admin, c), lambda c=second: deactivate(app, admin, c)]
        )

        assert sorted(r.status_code for r in responses) == [200, 409]
        refusal_names(next(r for r in responses if r.status_code == 409), patient_id)
        assert len(active_clinicians(app, patient_id)) == 1
    nobody_unwatched(app)


def test_creating_a_patient_for_a_clinician_being_deactivated(race_app, admin):
    """Either the patient is created first and the clinician, now their last, stays active; or
    the deactivation comes first and the clinician can no longer be named."""
    app = race_app
    for round_ in range(ROUNDS):
        clinician = sign_in(app, make_user(app, Role.CLINICIAN, name=f"Dr. Named {round_}"))
        body = patient_body(clinician_id=clinician.id)

        creation, deactivation = all_at_once(
            [
                lambda b=body: create(app, admin, b),
                lambda c=clinician: deactivate(app, admin, c),
            ]
        )

        statuses = (creation.status_code, deactivation.status_code)
        assert statuses in ((201, 409), (422, 200)), statuses
        if creation.status_code == 201:
            patient_id = creation.get_json()["id"]
            refusal_names(deactivation, patient_id)
            assert active_clinicians(app, patient_id) == [clinician.id]
    nobody_unwatched(app)
