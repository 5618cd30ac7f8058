"""PATCH /api/v1/patients/{id}: the care team and admins change a record, proving with
If-Match that they saw its current version."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import make_patient
from tests.patients.helpers import (
    API,
    assert_problem,
    assert_utc,
    etag,
    patient_url,
    random_id,
    stored_patient,
    with_if_match,
)

CHANGES = {
    "name": "  Patricia Able ",
    "email": "Patricia.Able@Example.TEST",
    "date_of_birth": "1981-03-04",
    "timezone": "Europe/Berlin",
    "emergency_contact": {"name": "Em Other", "phone": "+49 30 7654321"},
}


def patch(client, actor, patient_id, body, if_match=None):
    headers = actor.headers if if_match is None else with_if_match(actor.headers, if_match)
    return client.patch(patient_url(patient_id), json=body, headers=headers)


@pytest.mark.parametrize("actor", ["clinician", "admin"])
def test_care_team_and_admin_change_a_record(app, client, world, actor):
    editor = getattr(world, actor)
    before = etag(client, editor.headers, world.patient.id)

    response = patch(client, editor, world.patient.id, CHANGES, if_match=before)

    assert response.status_code == 200, response.get_json()
    record = response.get_json()
    assert record["name"] == "Patricia Able"
    assert record["email"] == "patricia.able@example.test"
    assert record["date_of_birth"] == "1981-03-04"
    assert record["timezone"] == "Europe/Berlin"
    assert record["emergency_contact"] == {"name": "Em Other", "phone": "+49 30 7654321"}
    assert [member["id"] for member in record["care_team"]] == [world.clinician.id]
    assert_utc(record["updated_at"])
    assert record["updated_at"] > record["created_at"]
    new_etag = response.headers["ETag"]
    assert new_etag != before
    assert etag(client, editor.headers, world.patient.id) == new_etag

    stored = stored_patient(app, world.patient.id)
    assert stored.name == "Patricia Able"
    assert stored.email == "patricia.able@example.test"
    assert stored.date_of_birth == date(1981, 3, 4)
    assert stored.timezone == "Europe/Berlin"
    assert stored.emergency_contact == {"name": "Em Other", "phone": "+49 30 7654321"}


def test_only_the_fields_sent_change(app, client, world):
    before = etag(client, world.clinician.headers, world.patient.id)

    response = patch(
        client, world.clinician, world.patient.id, {"timezone": "Asia/Tokyo"}, if_match=before
    )

    assert response.status_code == 200, response.get_json()
    record = response.get_json()
    assert record["timezone"] == "Asia/Tokyo"
    assert record["name"] == "Pat Able"
    assert record["emergency_contact"] == {"name": "Em Contact", "phone": "+1 555 0100"}


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        ({"phone": "+1 555 0199"}, {"name": "Em Contact", "phone": "+1 555 0199"}),
        ({"name": "Em New"}, {"name": "Em New", "phone": "+1 555 0100"}),
    ],
    ids=["phone-only", "name-only"],
)
def test_part_of_the_emergency_contact_can_change(app, client, world, contact, expected):
    before = etag(client, world.clinician.headers, world.patient.id)

    response = patch(
        client, world.clinician, world.patient.id, {"emergency_contact": contact}, if_match=before
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["emergency_contact"] == expected
    assert stored_patient(app, world.patient.id).emergency_contact == expected


def test_the_email_may_be_set_to_its_own_value_in_another_case(client, world):
    before = etag(client, world.clinician.headers, world.patient.id)
    own = world.patient.user.email.upper()

    response = patch(client, world.clinician, world.patient.id, {"email": own}, if_match=before)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["email"] == own.lower()


def test_without_if_match_the_change_needs_a_precondition(app, client, world):
    response = patch(client, world.clinician, world.patient.id, {"name": "Changed Name"})

    assert_problem(response, 428)
    assert stored_patient(app, world.patient.id).name == "Pat Able"


# Issue 18: `*` matches any version, so it proves nothing about the one read: as if missing.
def test_if_match_star_is_no_precondition(app, client, world):
    response = patch(client, world.clinician, world.patient.id, {"name": "Blind"}, if_match="*")

    assert_problem(response, 428)
    assert stored_patient(app, world.patient.id).name == "Pat Able"


def test_a_stale_etag_is_refused(app, client, world):
    first = etag(client, world.clinician.headers, world.patient.id)
    assert (
        patch(
            client, world.admin, world.patient.id, {"name": "Admin Edit"}, if_match=first
        ).status_code
        == 200
    )

    response = patch(
        client, world.clinician, world.patient.id, {"name": "Lost Update"}, if_match=first
    )

    assert_problem(response, 412)
    assert stored_patient(app, world.patient.id).name == "Admin Edit"


@pytest.mark.parametrize("if_match", ['W/"v1"', '"v2"', '"v0"', "garbage"])
def test_an_etag_that_does_not_match_strongly_is_refused(client, world, if_match):
    response = patch(client, world.clinician, world.patient.id, {"name": "X"}, if_match=if_match)

    assert_problem(response, 412)


def test_any_of_several_etags_may_match(client, world):
    current = etag(client, world.clinician.headers, world.patient.id)

    response = patch(
        client, world.clinician, world.patient.id, {"name": "Listed"}, if_match=f'"v0", {current}'
    )

    assert response.status_code == 200, response.get_json()


def test_a_patient_may_not_change_their_own_name(app, client, world):
    """What else a patient may change on their own record: tests/patients/test_self_service.py."""
    current = etag(client, world.clinician.headers, world.patient.id)

    response = patch(client, world.patient, world.patient.id, {"name": "Self Edit"}, current)

    assert_problem(response, 403)
    assert stored_patient(app, world.patient.id).name == "Pat Able"


def test_another_patient_s_record_is_not_found(app, client, world):
    current = etag(client, world.clinician.headers, world.patient.id)

    response = patch(
        client, world.other_patient, world.patient.id, {"timezone": "Asia/Tokyo"}, current
    )

    assert_problem(response, 404)
    assert stored_patient(app, world.patient.id).timezone == "America/New_York"


@pytest.mark.parametrize("actor", ["other_clinician", "lone_clinician"])
@pytest.mark.parametrize("if_match", [None, '"v1"'], ids=["no-if-match", "if-match"])
def test_a_foreign_record_is_indistinguishable_from_a_missing_one(
    app, client, world, actor, if_match
):
    """Not 428 or 412 either: the precondition is checked only on a record the caller may see."""
    editor = getattr(world, actor)

    foreign = patch(client, editor, world.patient.id, {"name": "Foreign"}, if_match=if_match)
    missing = patch(client, editor, random_id(), {"name": "Foreign"}, if_match=if_match)

    assert_problem(foreign, 404)
    assert foreign.get_json() == assert_problem(missing, 404)
    assert stored_patient(app, world.patient.id).name == "Pat Able"


def test_a_clinician_cannot_change_an_admin_created_patient(app, client, world):
    orphan = str(make_patient(app, None, name="Orphan Patient").id)

    assert_problem(patch(client, world.clinician, orphan, {"name": "Mine"}, if_match='"v1"'), 404)


def test_a_non_uuid_id_is_not_found(client, world):
    response = client.patch(
        f"{API}/patients/123",
        json={"name": "X"},
        headers=with_if_match(world.admin.headers, '"v1"'),
    )

    assert_problem(response, 404)


def test_changing_needs_a_token(client, world):
    assert_problem(client.patch(patient_url(world.patient.id), json={"name": "X"}), 401)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"dose": "100 mg"}, "dose", id="unknown-field"),
        pytest.param({"role": "admin"}, "role", id="role-is-not-editable"),
        pytest.param({"id": "00000000-0000-0000-0000-000000000000"}, "id", id="id-not-editable"),
        pytest.param({"email": "not-an-email"}, "email", id="invalid-email"),
        pytest.param({"timezone": "Mars/Olympus"}, "timezone", id="made-up-zone"),
        pytest.param({"timezone": "europe/berlin"}, "timezone", id="zone-wrong-case"),
        pytest.param({"date_of_birth": "2999-01-01"}, "date_of_birth", id="born-in-future"),
        pytest.param({"date_of_birth": "1899-12-31"}, "date_of_birth", id="born-before-1900"),
        pytest.param({"name": "x" * 201}, "name", id="name-201-chars"),
        pytest.param({"name": "  "}, "name", id="blank-name"),
        pytest.param({"name": None}, "name", id="null-name"),
        pytest.param({"name": "Pat\x00"}, "name", id="nul-in-name"),
        pytest.param({"emergency_contact": None}, "emergency_contact", id="null-contact"),
        pytest.param(
            {"emergency_contact": {"phone": "call me"}}, "emergency_contact.phone", id="bad-phone"
        ),
        pytest.param(
            {"emergency_contact": {"name": "", "phone": "+1 555 0100"}},
            "emergency_contact.name",
            id="blank-contact-name",
        ),
        pytest.param(
            {"emergency_contact": {"name": "Em", "phone": "+1 555 0100", "dose": 1}},
            "emergency_contact.dose",
            id="unknown-field-in-contact",
        ),
    ],
)
def test_invalid_changes_are_refused_and_change_nothing(app, client, world, body, field):
    current = etag(client, world.clinician.headers, world.patient.id)

    response = patch(client, world.clinician, world.patient.id, body, if_match=current)

    assert_problem(response, 422, field)
    assert etag(client, world.clinician.headers, world.patient.id) == current
    stored = stored_patient(app, world.patient.id)
    assert (stored.name, stored.timezone) == ("Pat Able", "America/New_York")


@pytest.mark.parametrize("taken_by", ["other_patient", "other_clinician"])
def test_an_email_in_use_is_a_conflict_whatever_its_case(app, client, world, taken_by):
    taken = getattr(world, taken_by).user.email
    current = etag(client, world.clinician.headers, world.patient.id)

    response = patch(
        client, world.clinician, world.patient.id, {"email": taken.upper()}, if_match=current
    )

    assert assert_problem(response, 409)["errors"] == {"email": "Already in use."}
    assert stored_patient(app, world.patient.id).email == world.patient.user.email
    assert etag(client, world.clinician.headers, world.patient.id) == current
