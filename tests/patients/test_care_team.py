"""PUT and DELETE /api/v1/patients/{id}/care-team/{clinician_id}: adding and removing the
clinicians who may see and act on a patient's record."""

from __future__ import annotations

from uuid import UUID

import pytest
from sqlalchemy import delete as delete_rows

from telehealth.accounts.models import Role
from telehealth.extensions import db
from telehealth.patients.models import CareTeamMember
from tests.factories import make_patient, make_user
from tests.patients.helpers import (
    API,
    assert_problem,
    assert_utc,
    care_team_ids,
    care_team_url,
    deactivate,
    patient_url,
    random_id,
)


def put(client, actor, patient_id, clinician_id):
    return client.put(care_team_url(patient_id, clinician_id), headers=actor.headers)


def delete(client, actor, patient_id, clinician_id):
    return client.delete(care_team_url(patient_id, clinician_id), headers=actor.headers)


def member_ids(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [member["id"] for member in response.get_json()["items"]]


# Adding


@pytest.mark.parametrize("actor", ["clinician", "admin"])
def test_care_team_and_admin_add_a_clinician(app, client, world, actor):
    response = put(client, getattr(world, actor), world.patient.id, world.lone_clinician.id)

    assert member_ids(response) == [world.clinician.id, world.lone_clinician.id]
    added = response.get_json()["items"][1]
    assert added["name"] == "Dr. Lone Wolf"
    assert added["email"] == world.lone_clinician.user.email
    assert added["is_active"] is True
    assert_utc(added["added_at"])
    assert care_team_ids(app, world.patient.id) == sorted(
        [world.clinician.id, world.lone_clinician.id]
    )


def test_an_added_clinician_gains_access(client, world):
    lone = world.lone_clinician
    assert_problem(client.get(patient_url(world.patient.id), headers=lone.headers), 404)

    put(client, world.clinician, world.patient.id, lone.id)

    assert client.get(patient_url(world.patient.id), headers=lone.headers).status_code == 200
    listed = client.get(f"{API}/patients", headers=lone.headers).get_json()["items"]
    assert [item["id"] for item in listed] == [world.patient.id]
    # ...and may now manage the team in turn.
    assert put(client, lone, world.patient.id, world.other_clinician.id).status_code == 200


def test_adding_twice_changes_nothing(app, client, world):
    first = put(client, world.clinician, world.patient.id, world.lone_clinician.id)

    second = put(client, world.clinician, world.patient.id, world.lone_clinician.id)

    assert second.status_code == 200
    assert second.get_json() == first.get_json()
    assert care_team_ids(app, world.patient.id).count(world.lone_clinician.id) == 1


def test_adding_a_member_already_there_is_a_no_op(app, client, world):
    response = put(client, world.clinician, world.patient.id, world.clinician.id)

    assert member_ids(response) == [world.clinician.id]
    assert care_team_ids(app, world.patient.id) == [world.clinician.id]


def test_an_admin_staffs_an_admin_created_patient(app, client, world):
    created = str(make_patient(app, None, name="Admin Created").id)
    [first] = care_team_ids(app, created)  # the clinician the admin named

    response = put(client, world.admin, created, world.lone_clinician.id)

    assert member_ids(response) == [first, world.lone_clinician.id]
    assert client.get(patient_url(created), headers=world.lone_clinician.headers).status_code == 200


@pytest.mark.parametrize("actor", ["patient", "other_patient"])
def test_patients_may_not_add_clinicians(app, client, world, actor):
    response = put(client, getattr(world, actor), world.patient.id, world.lone_clinician.id)

    assert_problem(response, 403)
    assert care_team_ids(app, world.patient.id) == [world.clinician.id]


@pytest.mark.parametrize("actor", ["other_clinician", "lone_clinician"])
def test_an_outsider_cannot_add_to_a_foreign_team(app, client, world, actor):
    """Not even themselves; and the answer is the one for a patient that does not exist."""
    outsider = getattr(world, actor)

    foreign = put(client, outsider, world.patient.id, outsider.id)
    missing = put(client, outsider, random_id(), outsider.id)

    assert assert_problem(foreign, 404) == assert_problem(missing, 404)
    assert care_team_ids(app, world.patient.id) == [world.clinician.id]


@pytest.fixture
def not_a_clinician(app, world):
    """Ids that may not join a care team, by name."""
    inactive = make_user(app, Role.CLINICIAN, name="Dr. Gone")
    deactivate(app, str(inactive.id))
    return {
        "unknown": random_id(),
        "patient": world.other_patient.id,
        "admin": world.admin.id,
        "inactive-clinician": str(inactive.id),
    }


@pytest.mark.parametrize("kind", ["unknown", "patient", "admin", "inactive-clinician"])
def test_only_an_active_clinician_can_join(app, client, world, not_a_clinician, kind):
    response = put(client, world.clinician, world.patient.id, not_a_clinician[kind])

    assert_problem(response, 404)
    assert care_team_ids(app, world.patient.id) == [world.clinician.id]


@pytest.mark.parametrize(
    "path",
    ["/patients/not-a-uuid/care-team/{clinician}", "/patients/{patient}/care-team/not-a-uuid"],
    ids=["patient", "clinician"],
)
def test_ids_that_are_not_uuids_are_not_found(client, world, path):
    url = API + path.format(patient=world.patient.id, clinician=world.lone_clinician.id)

    assert_problem(client.put(url, headers=world.admin.headers), 404)
    assert_problem(client.delete(url, headers=world.admin.headers), 404)


@pytest.mark.parametrize("method", ["put", "delete"])
def test_changing_the_team_needs_a_token(client, world, method):
    url = care_team_url(world.patient.id, world.clinician.id)

    assert_problem(getattr(client, method)(url), 401)


# Removing


@pytest.fixture
def two_member_team(client, world):
    """world.patient's team: world.clinician, then world.lone_clinician."""
    assert (
        put(client, world.clinician, world.patient.id, world.lone_clinician.id).status_code == 200
    )


@pytest.mark.parametrize("actor", ["clinician", "admin"])
def test_care_team_and_admin_remove_a_clinician(app, client, world, two_member_team, actor):
    response = delete(client, getattr(world, actor), world.patient.id, world.lone_clinician.id)

    assert response.status_code == 204
    assert response.get_data() == b""
    assert care_team_ids(app, world.patient.id) == [world.clinician.id]


def test_a_removed_clinician_loses_access(client, world, two_member_team):
    lone = world.lone_clinician
    assert client.get(patient_url(world.patient.id), headers=lone.headers).status_code == 200

    assert delete(client, world.clinician, world.patient.id, lone.id).status_code == 204

    denied = client.get(patient_url(world.patient.id), headers=lone.headers)
    assert denied.get_json() == assert_problem(
        client.get(patient_url(random_id()), headers=lone.headers), 404
    )
    assert client.get(f"{API}/patients", headers=lone.headers).get_json()["items"] == []
    assert_problem(put(client, lone, world.patient.id, lone.id), 404)


def test_a_clinician_may_leave_a_team_that_keeps_someone(app, client, world, two_member_team):
    response = delete(client, world.clinician, world.patient.id, world.clinician.id)

    assert response.status_code == 204
    assert care_team_ids(app, world.patient.id) == [world.lone_clinician.id]
    assert_problem(client.get(patient_url(world.patient.id), headers=world.clinician.headers), 404)


@pytest.mark.parametrize("actor", ["clinician", "admin"])
def test_the_last_member_cannot_be_removed(app, client, world, actor):
    response = delete(client, getattr(world, actor), world.patient.id, world.clinician.id)

    assert assert_problem(response, 409)["patient_ids"] == [world.patient.id]
    assert care_team_ids(app, world.patient.id) == [world.clinician.id]


@pytest.mark.parametrize(
    "clinician",
    ["lone_clinician", "other_clinician", "patient", "admin"],
    ids=lambda name: f"{name}-not-a-member",
)
def test_removing_someone_not_on_the_team_is_not_found(app, client, world, clinician):
    response = delete(client, world.clinician, world.patient.id, getattr(world, clinician).id)

    assert_problem(response, 404)
    assert care_team_ids(app, world.patient.id) == [world.clinician.id]


def test_removing_an_unknown_id_is_not_found(client, world):
    assert_problem(delete(client, world.clinician, world.patient.id, random_id()), 404)


def test_nothing_can_be_removed_from_an_empty_team(app, client, world):
    """A team left empty before the rule (no route can empty one now)."""
    legacy = str(make_patient(app, None, name="Legacy Patient").id)
    with app.app_context(), db.begin() as session:
        session.execute(
            delete_rows(CareTeamMember).where(CareTeamMember.patient_id == UUID(legacy))
        )

    assert_problem(delete(client, world.admin, legacy, world.clinician.id), 404)


@pytest.mark.parametrize("actor", ["patient", "other_patient"])
def test_patients_may_not_remove_clinicians(app, client, world, two_member_team, actor):
    response = delete(client, getattr(world, actor), world.patient.id, world.lone_clinician.id)

    assert_problem(response, 403)
    assert len(care_team_ids(app, world.patient.id)) == 2


@pytest.mark.parametrize("actor", ["other_clinician", "lone_clinician"])
def test_an_outsider_cannot_remove_from_a_foreign_team(app, client, world, actor):
    """The answer is the one for a patient that does not exist (not the last-member 409)."""
    outsider = getattr(world, actor)

    foreign = delete(client, outsider, world.patient.id, world.clinician.id)
    missing = delete(client, outsider, random_id(), world.clinician.id)

    assert assert_problem(foreign, 404) == assert_problem(missing, 404)
    assert care_team_ids(app, world.patient.id) == [world.clinician.id]
