"""A care team is never empty: every patient always has at least one active clinician on it.

POST /patients starts the team with one (an admin names it in `clinician_id`), and DELETE
/patients/{id}/care-team/{clinician_id} refuses (409, `patient_ids`) to take away the last
active one. Deactivation's side is in tests/accounts/test_deactivation_keeps_care_teams.py,
sequences of every change in test_care_team_sequences.py, concurrent ones in
test_care_team_race.py, and `flask care-teams check` in test_care_team_check_command.py."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select

from telehealth.accounts.models import Role, User
from telehealth.errors import Unauthorized
from telehealth.extensions import db
from telehealth.patients import records
from tests.factories import make_user
from tests.patients.helpers import (
    API,
    assert_problem,
    care_team_ids,
    care_team_url,
    deactivate,
    patient_body,
    patient_url,
    random_id,
    stored_patient,
    stored_user_by_email,
)

URL = f"{API}/patients"


def create(client, actor, **overrides):
    return client.post(URL, json=patient_body(**overrides), headers=actor.headers)


def created_team(response) -> list[str]:
    assert response.status_code == 201, response.get_json()
    return [member["id"] for member in response.get_json()["care_team"]]


@pytest.fixture
def inactive_clinician(app) -> str:
    clinician = make_user(app, Role.CLINICIAN, name="Dr. Gone")
    deactivate(app, str(clinician.id))
    return str(clinician.id)


# --- creating a patient -----------------------------------------------------------------------


def test_an_admin_must_name_the_first_clinician(app, client, world):
    body = patient_body()

    response = client.post(URL, json=body, headers=world.admin.headers)

    problem = assert_problem(response, 422, "clinician_id")
    assert "admin" in problem["errors"]["clinician_id"].lower()
    assert stored_user_by_email(app, body["email"]) is None


@pytest.mark.parametrize("kind", ["unknown", "inactive-clinician", "patient", "admin"])
def test_an_admin_may_only_name_an_active_clinician(app, client, world, inactive_clinician, kind):
    named = {
        "unknown": random_id(),
        "inactive-clinician": inactive_clinician,
        "patient": world.patient.id,
        "admin": world.admin.id,
    }[kind]
    body = patient_body(clinician_id=named)

    response = client.post(URL, json=body, headers=world.admin.headers)

    problem = assert_problem(response, 422, "clinician_id")
    assert problem["errors"]["clinician_id"] == "No such active clinician."
    assert stored_user_by_email(app, body["email"]) is None


@pytest.mark.parametrize("value", ["not-a-uuid", 42, None], ids=["text", "number", "null"])
def test_a_clinician_id_that_is_not_a_uuid_is_invalid(client, world, value):
    body = {**patient_body(), "clinician_id": value}

    assert_problem(client.post(URL, json=body, headers=world.admin.headers), 422, "clinician_id")


def test_the_clinician_an_admin_names_joins_the_care_team(app, client, world):
    response = create(client, world.admin, clinician_id=world.lone_clinician.id)

    assert created_team(response) == [world.lone_clinician.id]
    member = response.get_json()["care_team"][0]
    assert (member["name"], member["is_active"]) == ("Dr. Lone Wolf", True)
    created = response.get_json()["id"]
    assert care_team_ids(app, created) == [world.lone_clinician.id]
    assert str(stored_patient(app, created).created_by_id) == world.admin.id
    # The clinician named now reaches the record.
    mine = client.get(patient_url(created), headers=world.lone_clinician.headers)
    assert mine.status_code == 200


def test_a_clinician_creator_joins_the_care_team_without_naming_anyone(app, client, world):
    response = create(client, world.clinician)

    assert created_team(response) == [world.clinician.id]
    assert care_team_ids(app, response.get_json()["id"]) == [world.clinician.id]


def test_a_clinician_creator_and_the_clinician_they_name_both_join(app, client, world):
    response = create(client, world.clinician, clinician_id=world.lone_clinician.id)

    assert created_team(response) == [world.clinician.id, world.lone_clinician.id]
    assert care_team_ids(app, response.get_json()["id"]) == sorted(
        [world.clinician.id, world.lone_clinician.id]
    )


def test_a_clinician_naming_themself_joins_once(app, client, world):
    response = create(client, world.clinician, clinician_id=world.clinician.id)

    assert created_team(response) == [world.clinician.id]
    assert care_team_ids(app, response.get_json()["id"]) == [world.clinician.id]


def test_a_clinician_may_not_name_an_inactive_clinician(app, client, world, inactive_clinician):
    body = patient_body(clinician_id=inactive_clinician)

    response = client.post(URL, json=body, headers=world.clinician.headers)

    assert_problem(response, 422, "clinician_id")
    assert stored_user_by_email(app, body["email"]) is None


@pytest.mark.parametrize("actor", ["patient", "other_patient"])
def test_patients_may_not_create_patients_even_naming_a_clinician(app, client, world, actor):
    body = patient_body(clinician_id=world.clinician.id)

    response = client.post(URL, json=body, headers=getattr(world, actor).headers)

    assert_problem(response, 403)
    assert stored_user_by_email(app, body["email"]) is None


def test_a_clinician_deactivated_while_creating_a_patient_creates_nothing(app, world):
    """The request passed the token check, then the clinician was deactivated before the care
    team was formed (the row is read under a lock): the patient would have had no active
    clinician, so nothing is created."""
    with app.app_context():
        session = db.session
        creator = session.get(User, uuid.UUID(world.clinician.id))
        creator.is_active = False
        session.flush()
        with pytest.raises(Unauthorized):
            records.create_patient(
                session,
                creator,
                email="late@example.test",
                name="Lena Late",
                date_of_birth=date(1990, 1, 1),
                timezone="Europe/Berlin",
                emergency_contact={"name": "Em", "phone": "+1 555 0100"},
            )
        assert session.scalar(select(User).where(User.email == "late@example.test")) is None
        session.rollback()


# --- removing a clinician ---------------------------------------------------------------------


def remove(client, actor, patient_id, clinician_id):
    return client.delete(care_team_url(patient_id, clinician_id), headers=actor.headers)


def join(client, world, clinician_id):
    url = care_team_url(world.patient.id, clinician_id)
    assert client.put(url, headers=world.admin.headers).status_code == 200


def deactivate_by_admin(client, world, user_id):
    return client.post(f"{API}/users/{user_id}/deactivate", headers=world.admin.headers)


def assert_names_only_ids(problem, world) -> None:
    """The refusal names the patient by id, and nothing else of anyone."""
    assert problem["patient_ids"] == [world.patient.id]
    assert world.patient.id in problem["detail"]
    text = str(problem)
    for person in (world.patient, world.clinician, world.lone_clinician):
        assert person.user.name not in text
        assert person.user.email not in text


def test_the_last_clinician_cannot_remove_themself_while_the_only_other_member_is_deactivated(
    app, client, world
):
    join(client, world, world.lone_clinician.id)
    assert deactivate_by_admin(client, world, world.lone_clinician.id).status_code == 200

    response = remove(client, world.clinician, world.patient.id, world.clinician.id)

    assert_names_only_ids(assert_problem(response, 409), world)
    assert care_team_ids(app, world.patient.id) == sorted(
        [world.clinician.id, world.lone_clinician.id]
    )
    still = client.get(patient_url(world.patient.id), headers=world.clinician.headers)
    assert still.status_code == 200


def test_an_admin_cannot_remove_the_last_active_clinician_either(app, client, world):
    join(client, world, world.lone_clinician.id)
    deactivate(app, world.lone_clinician.id)

    response = remove(client, world.admin, world.patient.id, world.clinician.id)

    assert_names_only_ids(assert_problem(response, 409), world)
    assert len(care_team_ids(app, world.patient.id)) == 2


def test_the_last_active_clinician_cannot_be_removed(app, client, world):
    response = remove(client, world.admin, world.patient.id, world.clinician.id)

    assert_names_only_ids(assert_problem(response, 409), world)
    assert care_team_ids(app, world.patient.id) == [world.clinician.id]


@pytest.mark.parametrize("actor", ["clinician", "lone_clinician", "admin"])
def test_a_clinician_may_leave_while_another_active_one_remains(app, client, world, actor):
    join(client, world, world.lone_clinician.id)

    response = remove(client, getattr(world, actor), world.patient.id, world.clinician.id)

    assert response.status_code == 204, response.get_json()
    assert care_team_ids(app, world.patient.id) == [world.lone_clinician.id]


def test_an_inactive_member_may_be_removed_while_an_active_one_remains(app, client, world):
    join(client, world, world.lone_clinician.id)
    deactivate(app, world.lone_clinician.id)

    response = remove(client, world.clinician, world.patient.id, world.lone_clinician.id)

    assert response.status_code == 204, response.get_json()
    assert care_team_ids(app, world.patient.id) == [world.clinician.id]


def test_a_patient_may_not_remove_their_clinicians(app, client, world):
    join(client, world, world.lone_clinician.id)

    response = remove(client, world.patient, world.patient.id, world.clinician.id)

    assert_problem(response, 403)
    assert len(care_team_ids(app, world.patient.id)) == 2


def test_a_foreign_team_is_404_like_a_missing_one(app, client, world):
    """Another patient's clinician learns nothing, not even that the removal would be refused."""
    foreign = remove(client, world.other_clinician, world.patient.id, world.clinician.id)
    missing = remove(client, world.other_clinician, random_id(), world.clinician.id)

    assert assert_problem(foreign, 404) == assert_problem(missing, 404)
    assert "patient_ids" not in foreign.get_json()
    assert care_team_ids(app, world.patient.id) == [world.clinician.id]
