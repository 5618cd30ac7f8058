"""POST /api/v1/patients: who may create a patient, what is answered and stored, and which
bodies are refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from telehealth.accounts.models import Role
from tests.conftest import SUITE_NOW
from tests.patients.helpers import (
    API,
    assert_problem,
    assert_utc,
    care_team_ids,
    patient_body,
    stored_patient,
    stored_user,
    stored_user_by_email,
)

URL = f"{API}/patients"
PATIENT_FIELDS = {
    "id",
    "email",
    "name",
    "date_of_birth",
    "timezone",
    "emergency_contact",
    "is_active",
    "care_team",
    "created_at",
    "updated_at",
}


def test_clinician_creates_a_patient_and_joins_the_care_team(app, client, world):
    body = patient_body(email="  Nora.New@Example.TEST ", name="  Nora New  ")

    response = client.post(URL, json=body, headers=world.clinician.headers)

    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert set(created) == PATIENT_FIELDS | {"invitation_token"}
    assert created["email"] == "nora.new@example.test"
    assert created["name"] == "Nora New"
    assert created["date_of_birth"] == "1990-05-06"
    assert created["timezone"] == "Europe/Berlin"
    assert created["emergency_contact"] == {"name": "Ned New", "phone": "+49 30 1234567"}
    assert created["is_active"] is True
    assert isinstance(created["invitation_token"], str) and len(created["invitation_token"]) >= 32
    assert [member["id"] for member in created["care_team"]] == [world.clinician.id]
    assert created["care_team"][0]["name"] == "Dr. Alice Able"
    assert_utc(created["created_at"])
    assert_utc(created["care_team"][0]["added_at"])
    assert response.headers["ETag"] == '"v1"'

    stored = stored_patient(app, created["id"])
    assert stored is not None
    assert stored.email == "nora.new@example.test"
    assert stored.name == "Nora New"
    assert stored.date_of_birth == date(1990, 5, 6)
    assert stored.emergency_contact == {"name": "Ned New", "phone": "+49 30 1234567"}
    assert str(stored.created_by_id) == world.clinician.id
    assert stored.user.role is Role.PATIENT
    assert stored.user.password_hash is None
    assert care_team_ids(app, created["id"]) == [world.clinician.id]


def test_an_admin_created_patient_is_seen_by_the_named_clinician_only(app, client, world):
    """An admin names the first clinician (tests/patients/test_care_team_never_empty.py);
    nobody else on a care team sees the patient."""
    body = patient_body(clinician_id=world.lone_clinician.id)

    response = client.post(URL, json=body, headers=world.admin.headers)

    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert [member["id"] for member in created["care_team"]] == [world.lone_clinician.id]
    assert care_team_ids(app, created["id"]) == [world.lone_clinician.id]
    assert str(stored_patient(app, created["id"]).created_by_id) == world.admin.id
    assert client.get(f"{URL}/{created['id']}", headers=world.admin.headers).status_code == 200
    lone = client.get(f"{URL}/{created['id']}", headers=world.lone_clinician.headers)
    assert lone.status_code == 200
    assert client.get(f"{URL}/{created['id']}", headers=world.clinician.headers).status_code == 404


def test_the_invitation_token_activates_the_patient_account_once(client, world):
    created = client.post(URL, json=patient_body(), headers=world.clinician.headers).get_json()
    activation = {"token": created["invitation_token"], "password": "a long enough password"}

    activated = client.post(f"{API}/auth/activate", json=activation)

    assert activated.status_code == 200, activated.get_json()
    own = {"Authorization": f"Bearer {activated.get_json()['access_token']}"}
    assert client.get(f"{API}/me", headers=own).get_json()["role"] == "patient"
    assert client.get(f"{URL}/{created['id']}", headers=own).get_json()["id"] == created["id"]
    assert_problem(client.post(f"{API}/auth/activate", json=activation), 401)


@pytest.mark.parametrize("actor", ["patient", "other_patient"])
def test_patients_may_not_create_patients(app, client, world, actor):
    body = patient_body()

    response = client.post(URL, json=body, headers=getattr(world, actor).headers)

    assert_problem(response, 403)
    assert stored_user_by_email(app, body["email"]) is None


def test_role_is_checked_before_the_body(client, world):
    """A refused role learns nothing about which bodies would be valid."""
    assert_problem(client.post(URL, json={"dose": 1}, headers=world.patient.headers), 403)


def test_creating_needs_a_token(client):
    assert_problem(client.post(URL, json=patient_body()), 401)


TOO_LATE = (SUITE_NOW.date() + timedelta(days=1)).isoformat()  # tests run on the suite clock


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"dose": "100 mg"}, "dose", id="unknown-field"),
        pytest.param({"email": "not-an-email"}, "email", id="invalid-email"),
        pytest.param({"email": "a@b@example.test"}, "email", id="two-ats"),
        pytest.param({"email": 42}, "email", id="email-not-a-string"),
        pytest.param({"timezone": "Mars/Olympus"}, "timezone", id="made-up-zone"),
        pytest.param({"timezone": "europe/berlin"}, "timezone", id="zone-wrong-case"),
        pytest.param({"timezone": "+01:00"}, "timezone", id="offset-not-zone"),
        pytest.param({"timezone": ""}, "timezone", id="empty-zone"),
        pytest.param({"date_of_birth": TOO_LATE}, "date_of_birth", id="born-tomorrow"),
        pytest.param({"date_of_birth": "2999-01-01"}, "date_of_birth", id="born-far-future"),
        pytest.param({"date_of_birth": "1899-12-31"}, "date_of_birth", id="born-before-1900"),
        pytest.param({"date_of_birth": "1990-02-30"}, "date_of_birth", id="no-such-day"),
        pytest.param({"date_of_birth": "06/05/1990"}, "date_of_birth", id="not-iso-date"),
        pytest.param({"name": "x" * 201}, "name", id="name-201-chars"),
        pytest.param({"name": ""}, "name", id="empty-name"),
        pytest.param({"name": "   "}, "name", id="blank-name"),
        pytest.param({"name": "Nora\x00New"}, "name", id="nul-in-name"),
        pytest.param({"name": ["Nora"]}, "name", id="name-not-a-string"),
        pytest.param({"emergency_contact": None}, "emergency_contact", id="no-contact"),
        pytest.param(
            {"emergency_contact": "Ned, +1 555 0100"},
            "emergency_contact",
            id="contact-not-an-object",
        ),
        pytest.param(
            {"emergency_contact": {"name": "Ned"}},
            "emergency_contact.phone",
            id="contact-without-phone",
        ),
        pytest.param(
            {"emergency_contact": {"phone": "+1 555 0100"}},
            "emergency_contact.name",
            id="contact-without-name",
        ),
        pytest.param(
            {
                "emergency_contact": {
                    "name": "Ned",
                    "phone": "+1 555 0100",
                    "relationship": "brother",
                }
            },
            "emergency_contact.relationship",
            id="unknown-field-in-contact",
        ),
        pytest.param(
            {"emergency_contact": {"name": "Ned", "phone": "call me"}},
            "emergency_contact.phone",
            id="phone-words",
        ),
        pytest.param(
            {"emergency_contact": {"name": "Ned", "phone": "12"}},
            "emergency_contact.phone",
            id="phone-too-short",
        ),
        pytest.param(
            {"emergency_contact": {"name": "Ned", "phone": "+1 555 0100\n"}},
            "emergency_contact.phone",
            id="phone-trailing-newline",
        ),
        pytest.param(
            {"emergency_contact": {"name": "Ned", "phone": "+1" + "0" * 40}},
            "emergency_contact.phone",
            id="phone-too-long",
        ),
        pytest.param(
            {"emergency_contact": {"name": "Ned\x00", "phone": "+1 555 0100"}},
            "emergency_contact.name",
            id="nul-in-contact-name",
        ),
    ],
)
def test_invalid_bodies_are_refused_naming_the_field(app, client, world, overrides, field):
    body = patient_body(**overrides)  # an override of None drops the field

    response = client.post(URL, json=body, headers=world.clinician.headers)

    assert_problem(response, 422, field)
    if isinstance(body.get("email"), str):
        assert stored_user_by_email(app, body["email"]) is None


@pytest.mark.parametrize("field", ["email", "name", "date_of_birth", "timezone"])
def test_each_required_field_is_required(client, world, field):
    body = patient_body()
    del body[field]

    assert_problem(client.post(URL, json=body, headers=world.clinician.headers), 422, field)


@pytest.mark.parametrize("payload", [[], "patient", 7], ids=["list", "string", "number"])
def test_a_body_that_is_not_an_object_is_refused(client, world, payload):
    assert_problem(client.post(URL, json=payload, headers=world.clinician.headers), 422)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"timezone": "EST5EDT"}, id="posix-style-iana-zone"),
        pytest.param({"timezone": "UTC"}, id="utc"),
        pytest.param({"timezone": "America/Argentina/Buenos_Aires"}, id="three-part-zone"),
        pytest.param({"date_of_birth": "1900-01-01"}, id="born-1900-01-01"),
        pytest.param({"date_of_birth": SUITE_NOW.date().isoformat()}, id="born-today"),
        pytest.param({"name": "x" * 200}, id="name-200-chars"),
        pytest.param({"name": "Zoë Ångström-Nuñez"}, id="non-ascii-name"),
        pytest.param(
            {"emergency_contact": {"name": "Ned", "phone": "+49 (030) 123-45.67"}},
            id="phone-with-punctuation",
        ),
    ],
)
def test_edge_values_that_are_valid_are_accepted(client, world, overrides):
    response = client.post(URL, json=patient_body(**overrides), headers=world.clinician.headers)

    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    for key, value in overrides.items():
        assert created[key] == value


@pytest.mark.parametrize(
    "taken_by", ["patient", "clinician", "admin"], ids=lambda role: f"email-of-{role}"
)
def test_duplicate_email_is_a_conflict_whatever_its_case(app, client, world, taken_by):
    taken = getattr(world, taken_by).user.email

    response = client.post(
        URL, json=patient_body(email=taken.upper()), headers=world.clinician.headers
    )

    assert assert_problem(response, 409)["errors"] == {"email": "Already in use."}
    assert stored_user_by_email(app, taken).id == getattr(world, taken_by).user.id


def test_created_record_reads_back_the_same(app, client, world):
    created = client.post(URL, json=patient_body(), headers=world.clinician.headers).get_json()

    read = client.get(f"{URL}/{created['id']}", headers=world.clinician.headers)

    assert read.status_code == 200
    created.pop("invitation_token")
    assert read.get_json() == created
    assert read.headers["ETag"] == '"v1"'
    assert stored_user(app, created["id"]).email == created["email"]
