"""GET /api/v1/patients/{id}: the care team, the patient and admins see the record; everyone
else gets the same 404 as for a record that does not exist."""

from __future__ import annotations

import pytest

from tests.factories import make_patient
from tests.patients.helpers import API, assert_problem, assert_utc, patient_url, random_id


@pytest.mark.parametrize("actor", ["clinician", "patient", "admin"])
def test_care_team_patient_and_admin_read_the_record(client, world, actor):
    response = client.get(patient_url(world.patient.id), headers=getattr(world, actor).headers)

    assert response.status_code == 200, response.get_json()
    record = response.get_json()
    assert record["id"] == world.patient.id
    assert record["name"] == "Pat Able"
    assert record["email"] == world.patient.user.email
    assert record["date_of_birth"] == "1980-01-02"
    assert record["timezone"] == "America/New_York"
    assert record["emergency_contact"] == {"name": "Em Contact", "phone": "+1 555 0100"}
    assert record["is_active"] is True
    assert [member["id"] for member in record["care_team"]] == [world.clinician.id]
    assert_utc(record["created_at"])
    assert_utc(record["updated_at"])
    assert response.headers["ETag"] == '"v1"'
    assert "invitation_token" not in record


@pytest.mark.parametrize("actor", ["other_clinician", "lone_clinician", "other_patient"])
def test_a_foreign_record_is_indistinguishable_from_a_missing_one(client, world, actor):
    headers = getattr(world, actor).headers

    foreign = client.get(patient_url(world.patient.id), headers=headers)
    missing = client.get(patient_url(random_id()), headers=headers)

    assert_problem(foreign, 404)
    assert_problem(missing, 404)
    assert foreign.get_json() == missing.get_json()
    assert "ETag" not in foreign.headers


def test_a_clinician_does_not_see_an_admin_created_patient(app, client, world):
    orphan = make_patient(app, None, name="Orphan Patient")

    assert_problem(client.get(patient_url(str(orphan.id)), headers=world.clinician.headers), 404)
    assert client.get(patient_url(str(orphan.id)), headers=world.admin.headers).status_code == 200


@pytest.mark.parametrize("bad_id", ["42", "not-a-uuid", "00000000-0000-0000-0000-00000000000g"])
def test_an_id_that_is_not_a_uuid_is_not_found(client, world, bad_id):
    assert_problem(client.get(f"{API}/patients/{bad_id}", headers=world.admin.headers), 404)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic YTpi"}],
    ids=["no-token", "garbage-token", "wrong-scheme"],
)
def test_reading_needs_a_valid_token(client, world, headers):
    assert_problem(client.get(patient_url(world.patient.id), headers=headers), 401)
