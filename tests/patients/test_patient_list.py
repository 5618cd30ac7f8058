"""GET /api/v1/patients: whose patients a caller sees, the `q` filter and cursor pagination."""

from __future__ import annotations

import pytest

from tests.factories import make_patient
from tests.patients.helpers import API, assert_problem, collect_pages, encode_cursor

URL = f"{API}/patients"
NIL_ID = "00000000-0000-0000-0000-000000000000"


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["name"] for item in response.get_json()["items"]]


def make_patients(app, actor, *patient_names: str) -> list[str]:
    """Patients on `actor`'s care team; their ids in the order given."""
    return [str(make_patient(app, actor.user, name=name).id) for name in patient_names]


def test_a_clinician_sees_only_their_care_team_patients(app, client, world):
    make_patients(app, world.clinician, "Zed Zulu", "Amy Alpha")

    response = client.get(URL, headers=world.clinician.headers)

    assert names(response) == ["Amy Alpha", "Pat Able", "Zed Zulu"]
    assert response.get_json()["next_cursor"] is None
    item = response.get_json()["items"][1]
    assert item["id"] == world.patient.id
    assert item["emergency_contact"] == {"name": "Em Contact", "phone": "+1 555 0100"}
    assert "invitation_token" not in item


def test_a_clinician_on_no_care_team_sees_an_empty_list(client, world):
    response = client.get(URL, headers=world.lone_clinician.headers)

    assert response.get_json() == {"items": [], "next_cursor": None}


def test_an_admin_sees_every_patient_including_those_without_a_team(app, client, world):
    make_patient(app, None, name="Orphan Patient")

    assert names(client.get(URL, headers=world.admin.headers)) == [
        "Olive Other",
        "Orphan Patient",
        "Pat Able",
    ]


@pytest.mark.parametrize("actor", ["patient", "other_patient"])
def test_patients_may_not_list_patients(client, world, actor):
    assert_problem(client.get(URL, headers=getattr(world, actor).headers), 403)


def test_listing_needs_a_token(client):
    assert_problem(client.get(URL), 401)


@pytest.fixture
def searchable(app, world):
    make_patients(
        app,
        world.lone_clinician,
        "100% Pure",
        "Percy Plain",
        "Under_Score",
        "UnderXScore",
        "Back\\Slash",
        "Backslash",
    )


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        pytest.param("percy", ["Percy Plain"], id="case-insensitive"),
        pytest.param("PLAIN", ["Percy Plain"], id="upper-case-query"),
        pytest.param("er", ["Percy Plain", "Under_Score", "UnderXScore"], id="substring"),
        pytest.param("%", ["100% Pure"], id="percent-is-literal"),
        pytest.param("0%", ["100% Pure"], id="percent-in-text"),
        pytest.param("r_s", ["Under_Score"], id="underscore-is-literal"),
        pytest.param("_", ["Under_Score"], id="lone-underscore"),
        pytest.param("\\", ["Back\\Slash"], id="backslash-is-literal"),
        pytest.param("nobody", [], id="no-match"),
    ],
)
def test_q_filters_by_name(client, world, searchable, q, expected):
    response = client.get(URL, headers=world.lone_clinician.headers, query_string={"q": q})

    # Sorted here: how punctuation sorts depends on the database's collation.
    assert sorted(names(response)) == sorted(expected)


def test_q_does_not_reach_beyond_the_care_team(client, world):
    assert (
        names(client.get(URL, headers=world.clinician.headers, query_string={"q": "Olive"})) == []
    )
    assert names(client.get(URL, headers=world.admin.headers, query_string={"q": "olive"})) == [
        "Olive Other"
    ]


def test_q_of_201_characters_is_refused(client, world):
    response = client.get(URL, headers=world.admin.headers, query_string={"q": "x" * 201})

    assert_problem(response, 422, "q")


def test_pages_follow_the_cursor_and_return_every_patient_once_in_name_order(app, client, world):
    # Repeated names make the id the tie-breaker, also across a page boundary.
    ids = make_patients(
        app,
        world.lone_clinician,
        "Gina Green",
        "Abe Adams",
        "Sam Same",
        "Cal Cole",
        "Sam Same",
        "Bea Brown",
        "Sam Same",
    )

    pages = collect_pages(client, URL, world.lone_clinician.headers, limit=3)

    assert [len(page["items"]) for page in pages] == [3, 3, 1]
    assert pages[-1]["next_cursor"] is None
    items = [item for page in pages for item in page["items"]]
    assert sorted(item["id"] for item in items) == sorted(ids)
    assert [(item["name"], item["id"]) for item in items] == sorted(
        (item["name"], item["id"]) for item in items
    )
    assert [item["name"] for item in items] == [
        "Abe Adams",
        "Bea Brown",
        "Cal Cole",
        "Gina Green",
        "Sam Same",
        "Sam Same",
        "Sam Same",
    ]


def test_a_full_last_page_has_no_next_cursor(app, client, world):
    make_patients(app, world.lone_clinician, "Ann One", "Ben Two", "Cat Three")

    pages = collect_pages(client, URL, world.lone_clinician.headers, limit=3)

    assert len(pages) == 1
    assert pages[0]["next_cursor"] is None


def test_the_default_page_size_is_50(app, client, world):
    make_patients(app, world.lone_clinician, *(f"Patient {n:02d}" for n in range(51)))

    first = client.get(URL, headers=world.lone_clinician.headers).get_json()
    rest = client.get(
        URL, headers=world.lone_clinician.headers, query_string={"cursor": first["next_cursor"]}
    ).get_json()

    assert len(first["items"]) == 50
    assert first["next_cursor"] is not None
    assert [item["name"] for item in rest["items"]] == ["Patient 50"]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(("limit", "expected"), [("1", 1), ("100", 2)])
def test_limits_from_1_to_100_are_accepted(client, world, limit, expected):
    response = client.get(URL, headers=world.admin.headers, query_string={"limit": limit})

    assert len(names(response)) == expected


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5"])
def test_a_limit_outside_1_to_100_is_refused(client, world, limit):
    response = client.get(URL, headers=world.admin.headers, query_string={"limit": limit})

    assert_problem(response, 422, "limit")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("!!!!", id="not-base64"),
        pytest.param("not-a-cursor", id="garbage"),
        pytest.param(encode_cursor({"name": "Pat"}), id="an-object"),
        pytest.param(encode_cursor(["Pat Able"]), id="too-few-values"),
        pytest.param(encode_cursor(["Pat Able", NIL_ID, "extra"]), id="too-many"),
        pytest.param(encode_cursor([1, NIL_ID]), id="name-not-a-string"),
        pytest.param(encode_cursor(["Pat Able", "not-a-uuid"]), id="id-not-a-uuid"),
        pytest.param(encode_cursor(["Pat Able", 5]), id="id-a-number"),
        pytest.param(encode_cursor(["Pat Able", ["a"]]), id="id-a-list"),
        pytest.param(encode_cursor([None, None]), id="nulls"),
        pytest.param(encode_cursor(["Pat Able", None]), id="null-id"),
        pytest.param("A" * 513, id="too-long"),
    ],
)
def test_a_forged_cursor_is_refused(client, world, cursor):
    response = client.get(URL, headers=world.admin.headers, query_string={"cursor": cursor})

    assert_problem(response, 422, "cursor")


def test_another_callers_cursor_only_moves_within_what_the_caller_may_see(app, client, world):
    make_patients(app, world.lone_clinician, "Aaron First", "Aaron Second")
    admin_page = client.get(URL, headers=world.admin.headers, query_string={"limit": 1})
    cursor = admin_page.get_json()["next_cursor"]

    response = client.get(URL, headers=world.clinician.headers, query_string={"cursor": cursor})

    assert names(response) == ["Pat Able"]
