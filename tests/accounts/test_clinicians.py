"""POST and GET /api/v1/clinicians: admins create and list clinician accounts; nobody else may."""

from __future__ import annotations

import pytest

from telehealth.accounts.models import Role
from tests.factories import make_user
from tests.patients.helpers import (
    API,
    assert_problem,
    assert_utc,
    audit_events,
    collect_pages,
    encode_cursor,
    stored_user,
    stored_user_by_email,
)

URL = f"{API}/clinicians"
CLINICIAN_FIELDS = {"id", "email", "name", "is_active", "created_at"}
WORLD_CLINICIANS = ["Dr. Alice Able", "Dr. Bob Baker", "Dr. Lone Wolf"]


def clinician_body(**overrides):
    body = {"email": "new.doctor@example.test", "name": "Dr. New Doctor"}
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


# Creating


def test_an_admin_creates_a_clinician(app, client, world):
    body = clinician_body(email="  New.Doctor@Example.TEST ", name=" Dr. New Doctor ")

    response = client.post(URL, json=body, headers=world.admin.headers)

    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert set(created) == CLINICIAN_FIELDS | {"invitation_token"}
    assert created["email"] == "new.doctor@example.test"
    assert created["name"] == "Dr. New Doctor"
    assert created["is_active"] is True
    assert isinstance(created["invitation_token"], str) and len(created["invitation_token"]) >= 32
    assert_utc(created["created_at"])

    stored = stored_user(app, created["id"])
    assert stored.role is Role.CLINICIAN
    assert stored.email == "new.doctor@example.test"
    assert stored.name == "Dr. New Doctor"
    assert stored.password_hash is None
    assert stored.is_active is True


def test_the_invitation_token_lets_the_clinician_in(client, world):
    created = client.post(URL, json=clinician_body(), headers=world.admin.headers).get_json()

    activated = client.post(
        f"{API}/auth/activate",
        json={"token": created["invitation_token"], "password": "a long enough password"},
    )

    assert activated.status_code == 200, activated.get_json()
    own = {"Authorization": f"Bearer {activated.get_json()['access_token']}"}
    me = client.get(f"{API}/me", headers=own).get_json()
    assert (me["id"], me["role"]) == (created["id"], "clinician")
    # A new clinician is on no care team yet.
    assert client.get(f"{API}/patients", headers=own).get_json()["items"] == []


def test_a_created_clinician_is_listed_and_can_join_a_care_team(client, world):
    created = client.post(URL, json=clinician_body(), headers=world.admin.headers).get_json()

    listed = client.get(URL, headers=world.admin.headers).get_json()["items"]
    joined = client.put(
        f"{API}/patients/{world.patient.id}/care-team/{created['id']}",
        headers=world.clinician.headers,
    )

    assert created["id"] in [item["id"] for item in listed]
    assert joined.status_code == 200


def test_a_create_is_audited(app, client, world):
    created = client.post(URL, json=clinician_body(), headers=world.admin.headers).get_json()

    [event] = audit_events(app, action="clinician.create")
    assert event.resource_id == created["id"]
    assert str(event.actor_id) == world.admin.id
    assert (event.outcome, event.status_code) == ("success", 201)


@pytest.mark.parametrize("actor", ["clinician", "lone_clinician", "patient"])
def test_only_admins_create_clinicians(app, client, world, actor):
    response = client.post(URL, json=clinician_body(), headers=getattr(world, actor).headers)

    assert_problem(response, 403)
    assert stored_user_by_email(app, "new.doctor@example.test") is None


def test_the_role_is_checked_before_the_body(client, world):
    assert_problem(client.post(URL, json={"role": "admin"}, headers=world.clinician.headers), 403)


def test_creating_needs_a_token(client):
    assert_problem(client.post(URL, json=clinician_body()), 401)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"dose": "100 mg"}, "dose", id="unknown-field"),
        pytest.param({"role": "admin"}, "role", id="role-cannot-be-chosen"),
        pytest.param({"password": "chosen by the admin"}, "password", id="no-password-field"),
        pytest.param({"email": None}, "email", id="missing-email"),
        pytest.param({"email": "not-an-email"}, "email", id="invalid-email"),
        pytest.param({"email": "x" * 250 + "@example.test"}, "email", id="email-too-long"),
        pytest.param({"name": None}, "name", id="missing-name"),
        pytest.param({"name": ""}, "name", id="empty-name"),
        pytest.param({"name": " \t "}, "name", id="blank-name"),
        pytest.param({"name": "x" * 201}, "name", id="name-201-chars"),
        pytest.param({"name": "Dr.\x00Evil"}, "name", id="nul-in-name"),
        pytest.param({"name": 7}, "name", id="name-not-a-string"),
    ],
)
def test_invalid_bodies_are_refused_naming_the_field(client, world, overrides, field):
    response = client.post(URL, json=clinician_body(**overrides), headers=world.admin.headers)

    assert_problem(response, 422, field)


def test_a_name_of_200_characters_is_accepted(client, world):
    response = client.post(URL, json=clinician_body(name="x" * 200), headers=world.admin.headers)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["name"] == "x" * 200


@pytest.mark.parametrize("taken_by", ["clinician", "patient", "admin"])
def test_an_email_in_use_is_a_conflict_whatever_its_case(app, client, world, taken_by):
    taken = getattr(world, taken_by).user.email

    response = client.post(
        URL, json=clinician_body(email=f" {taken.upper()} "), headers=world.admin.headers
    )

    assert assert_problem(response, 409)["errors"] == {"email": "Already in use."}
    assert stored_user_by_email(app, taken).id == getattr(world, taken_by).user.id


# Listing


def test_an_admin_lists_clinicians_by_name(app, client, world):
    make_user(app, Role.CLINICIAN, name="Dr. Aaron Aardvark")

    response = client.get(URL, headers=world.admin.headers)

    assert response.status_code == 200, response.get_json()
    page = response.get_json()
    assert [item["name"] for item in page["items"]] == ["Dr. Aaron Aardvark", *WORLD_CLINICIANS]
    assert page["next_cursor"] is None
    alice = page["items"][1]
    assert set(alice) == CLINICIAN_FIELDS
    assert (alice["id"], alice["email"]) == (world.clinician.id, world.clinician.user.email)
    assert alice["is_active"] is True


def test_the_list_holds_only_clinicians(client, world):
    ids = {item["id"] for item in client.get(URL, headers=world.admin.headers).get_json()["items"]}

    assert ids == {world.clinician.id, world.other_clinician.id, world.lone_clinician.id}


@pytest.mark.parametrize("actor", ["clinician", "patient"])
def test_only_admins_list_clinicians(client, world, actor):
    assert_problem(client.get(URL, headers=getattr(world, actor).headers), 403)


def test_listing_needs_a_token(client):
    assert_problem(client.get(URL), 401)


def test_pages_follow_the_cursor(app, client, world):
    for name in ("Dr. Eve East", "Dr. Cal Cole", "Dr. Dan Dune", "Dr. Cal Cole"):
        make_user(app, Role.CLINICIAN, name=name)

    pages = collect_pages(client, URL, world.admin.headers, limit=2)

    assert [len(page["items"]) for page in pages] == [2, 2, 2, 1]
    items = [item for page in pages for item in page["items"]]
    assert len({item["id"] for item in items}) == 7
    assert [item["name"] for item in items] == sorted(
        [*WORLD_CLINICIANS, "Dr. Eve East", "Dr. Cal Cole", "Dr. Dan Dune", "Dr. Cal Cole"]
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"cursor": encode_cursor(["Dr. Alice Able", 5])}, "cursor"),
        ({"cursor": encode_cursor([None, None])}, "cursor"),
    ],
    ids=["limit-0", "limit-101", "limit-word", "garbage-cursor", "cursor-bad-id", "null-cursor"],
)
def test_bad_paging_is_refused(client, world, query, field):
    assert_problem(client.get(URL, headers=world.admin.headers, query_string=query), 422, field)
