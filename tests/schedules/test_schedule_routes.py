"""GET and PUT /patients/{id}/schedule: the default plan, who may read and replace it, If-Match,
and the items a plan refuses."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.factories import sign_in
from tests.problems import assert_problem
from tests.schedules.schedule_helpers import API, DUE, item, plan, put_plan, schedule_url

DEFAULT = [
    {"instrument": "mood", "every": "day", "at": "09:00", "weekday": None, "day": None},
    {"instrument": "PHQ-9", "every": "week", "at": "09:00", "weekday": 0, "day": None},
    {"instrument": "GAD-7", "every": "week", "at": "09:00", "weekday": 0, "day": None},
    {"instrument": "PCL-5", "every": "month", "at": "09:00", "weekday": None, "day": 1},
]


def without_start(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in entry.items() if k != "starts_on"} for entry in items]


def test_a_new_patient_starts_with_the_default_plan_from_their_own_today(client, world):
    # 12:30 UTC on 1 December is already the 2nd in Auckland (UTC+13).
    body = {
        "email": "kiri@example.test",
        "name": "Kiri New",
        "date_of_birth": "1990-05-06",
        "timezone": "Pacific/Auckland",
        "emergency_contact": {"name": "Em Contact", "phone": "+64 9 123 4567"},
    }
    created = client.post(f"{API}/patients", json=body, headers=world.clinician.headers)
    assert created.status_code == 201, created.get_json()

    response = client.get(schedule_url(created.get_json()["id"]), headers=world.clinician.headers)

    assert response.status_code == 200
    answer = response.get_json()
    assert answer["reminders"] is True
    assert without_start(answer["items"]) == DEFAULT
    assert {entry["starts_on"] for entry in answer["items"]} == {"2026-12-02"}
    assert response.headers["ETag"]


def test_the_care_team_and_the_patient_read_the_plan(client, world):
    for reader in (world.clinician, world.patient):
        response = client.get(schedule_url(world.patient.id), headers=reader.headers)
        assert response.status_code == 200
        assert response.get_json()["patient_id"] == world.patient.id
        assert without_start(response.get_json()["items"]) == DEFAULT
        assert {e["starts_on"] for e in response.get_json()["items"]} == {"2026-12-01"}


def test_put_replaces_the_plan_and_the_etag_moves(client, world):
    url = schedule_url(world.patient.id)
    before = client.get(url, headers=world.clinician.headers)

    body = plan(
        item("mood", at="20:30"),
        item("PHQ-9", "week", "07:15", weekday=4, starts_on="2026-12-04"),
        reminders=False,
    )
    response = client.put(url, json=body, headers=world.clinician.headers)

    assert response.status_code == 200, response.get_json()
    assert response.headers["ETag"] != before.headers["ETag"]
    answer = response.get_json()
    assert answer["reminders"] is False
    assert answer["items"] == [
        {"instrument": "mood", "every": "day", "at": "20:30", "weekday": None, "day": None,
         "starts_on": "2026-12-01"},  # no starts_on: today, in the patient's zone
        {"instrument": "PHQ-9", "every": "week", "at": "07:15", "weekday": 4, "day": None,
         "starts_on": "2026-12-04"},
    ]  # fmt: skip
    again = client.get(url, headers=world.patient.headers)
    assert again.get_json() == answer
    assert again.headers["ETag"] == response.headers["ETag"]


def test_put_may_keep_the_same_instruments_and_may_empty_the_plan(client, world):
    url = schedule_url(world.patient.id)
    headers = world.clinician.headers
    same = plan(*[{k: v for k, v in e.items() if v is not None} for e in DEFAULT])

    first = put_plan(client, headers, world.patient.id, same)
    second = put_plan(client, headers, world.patient.id, same)
    emptied = put_plan(client, headers, world.patient.id, plan())

    assert without_start(first["items"]) == without_start(second["items"]) == DEFAULT
    assert emptied["items"] == []
    assert client.get(url, headers=headers).get_json()["items"] == []


def test_if_match_when_sent_must_be_current_and_may_be_left_out(client, world):
    url = schedule_url(world.patient.id)
    headers = world.clinician.headers
    stale = client.get(url, headers=headers).headers["ETag"]
    moved = client.put(url, json=plan(item("mood")), headers=headers)  # no If-Match: allowed
    assert moved.status_code == 200

    refused = client.put(url, json=plan(), headers={**headers, "If-Match": stale})
    assert_problem(refused, 412)
    assert client.get(url, headers=headers).get_json()["items"] != []

    current = moved.headers["ETag"]
    accepted = client.put(url, json=plan(), headers={**headers, "If-Match": current})
    assert accepted.status_code == 200
    assert accepted.headers["ETag"] not in (stale, current)


def test_an_empty_if_match_is_428_not_a_free_pass(client, world):
    url = schedule_url(world.patient.id)
    response = client.put(url, json=plan(), headers={**world.clinician.headers, "If-Match": ""})

    assert_problem(response, 428)
    assert client.get(url, headers=world.clinician.headers).get_json()["items"] != []


@pytest.mark.parametrize(
    ("who", "method"),
    [("patient", "PUT"), ("admin", "PUT"), ("admin", "GET")],
)
def test_roles_the_contract_does_not_name_get_403(client, world, who, method):
    """The care team reads and replaces a plan, the patient reads it; an admin does neither."""
    response = client.open(
        schedule_url(world.patient.id),
        method=method,
        json=plan() if method == "PUT" else None,
        headers=getattr(world, who).headers,
    )
    assert_problem(response, 403)


@pytest.mark.parametrize("who", ["clinician", "admin"])
def test_only_a_patient_has_due_items(client, world, who):
    assert_problem(client.get(DUE, headers=getattr(world, who).headers), 403)


def test_no_token_is_401(client, world):
    assert_problem(client.get(schedule_url(world.patient.id)), 401)
    assert_problem(client.put(schedule_url(world.patient.id), json=plan()), 401)
    assert_problem(client.get(DUE), 401)


@pytest.mark.parametrize(
    ("who", "method"),
    [
        ("other_clinician", "GET"),
        ("other_clinician", "PUT"),
        ("lone_clinician", "GET"),
        ("lone_clinician", "PUT"),
        ("other_patient", "GET"),
    ],
)
def test_a_patient_out_of_reach_is_404_like_no_patient(client, world, who, method):
    headers = getattr(world, who).headers
    body = plan(item("mood")) if method == "PUT" else None

    foreign = client.open(schedule_url(world.patient.id), method=method, json=body, headers=headers)
    unknown = client.open(
        schedule_url(str(uuid.uuid4())), method=method, json=body, headers=headers
    )

    assert_problem(foreign, 404)
    assert foreign.get_json() == unknown.get_json()
    mine = client.get(schedule_url(world.patient.id), headers=world.clinician.headers)
    assert [entry["instrument"] for entry in mine.get_json()["items"]] == [
        "mood", "PHQ-9", "GAD-7", "PCL-5"
    ]  # fmt: skip


def test_a_clinician_added_to_the_care_team_reaches_the_plan(app, client, world):
    """A clinician added to the team reaches the plan; one never added does not."""
    url = f"{API}/patients/{world.patient.id}/care-team/{world.lone_clinician.id}"
    assert client.put(url, headers=world.clinician.headers).status_code == 200
    lone = sign_in(app, world.lone_clinician.user)
    assert client.get(schedule_url(world.patient.id), headers=lone.headers).status_code == 200
    other = client.get(schedule_url(world.patient.id), headers=world.other_clinician.headers)
    assert_problem(other, 404)


BAD_ITEMS = {
    "an unknown instrument": ([item("BDI-II")], "items.0.instrument"),
    "an item twice": ([item("mood"), item("mood", at="18:00")], "items"),
    "a weekday for a daily item": ([item("mood", weekday=2)], "items.0.weekday"),
    "no weekday for a weekly item": ([item("PHQ-9", "week")], "items.0.weekday"),
    "a day for a weekly item": ([item("PHQ-9", "week", weekday=0, day=3)], "items.0.day"),
    "no day for a monthly item": ([item("PCL-5", "month")], "items.0.day"),
    "day 29 (not every month has it)": ([item("PCL-5", "month", day=29)], "items.0.day"),
    "day 0": ([item("PCL-5", "month", day=0)], "items.0.day"),
    "weekday 7": ([item("PHQ-9", "week", weekday=7)], "items.0.weekday"),
    "every fortnight": ([item("PHQ-9", "fortnight")], "items.0.every"),
    "at 9:00": ([item("mood", at="9:00")], "items.0.at"),
    "at 24:00": ([item("mood", at="24:00")], "items.0.at"),
    "at 09:60": ([item("mood", at="09:60")], "items.0.at"),
    "at 09:00:00": ([item("mood", at="09:00:00")], "items.0.at"),
    "at +9:00": ([item("mood", at="+9:00")], "items.0.at"),
    "at 9 (a number)": ([item("mood", at=9)], "items.0.at"),
    "an unknown field": ([item("mood", dose_mg=50)], "items.0.dose_mg"),
    "a bad starts_on": ([item("mood", starts_on="2026-02-30")], "items.0.starts_on"),
}


@pytest.mark.parametrize("case", list(BAD_ITEMS))
def test_a_bad_item_is_422_naming_it_and_changes_nothing(client, world, case):
    items, field = BAD_ITEMS[case]
    url = schedule_url(world.patient.id)
    before = client.get(url, headers=world.clinician.headers)

    response = client.put(url, json=plan(*items), headers=world.clinician.headers)

    assert_problem(response, 422, field)
    after = client.get(url, headers=world.clinician.headers)
    assert after.get_json() == before.get_json()
    assert after.headers["ETag"] == before.headers["ETag"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": []}, "reminders"),
        ({"reminders": True}, "items"),
        ({"reminders": "yes", "items": []}, "reminders"),
        ({"reminders": True, "items": [], "dose": "50 mg"}, "dose"),
    ],
)
def test_a_bad_plan_is_422(client, world, body, field):
    response = client.put(
        schedule_url(world.patient.id), json=body, headers=world.clinician.headers
    )
    assert_problem(response, 422, field)
