"""GET /patients/{id}/access-log (api-contract): for the patient, their care team and admins;
who read or changed this patient's record, when and what, newest first, cursor-paginated; only
this patient's events; reading it is itself logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.problems import assert_problem, assert_utc
from tests.record_rights.rights_helpers import (
    ACTOR_KEYS,
    ENTRY_KEYS,
    access_log_url,
    follow,
    frozen_at,
    newest_first,
    newest_ids,
    parse,
    patient_url,
    random_id,
    stored_events,
)

T0 = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)


def read_log(client, actor, patient_id, **params):
    return client.get(access_log_url(patient_id), headers=actor.headers, query_string=params)


@pytest.mark.parametrize("reader", ["patient", "clinician", "admin"])
def test_the_patient_the_care_team_and_admins_may_read_it(client, world, reader):
    client.get(patient_url(world.patient.id), headers=world.clinician.headers)

    response = read_log(client, getattr(world, reader), world.patient.id)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"items", "next_cursor"}
    [entry] = body["items"]
    assert entry["action"] == "patient.read"
    assert entry["actor"]["id"] == world.clinician.id


@pytest.mark.parametrize("intruder", ["other_patient", "other_clinician", "lone_clinician"])
def test_anyone_else_gets_the_same_404_as_for_a_patient_that_does_not_exist(
    client, world, intruder
):
    actor = getattr(world, intruder)
    client.get(patient_url(world.patient.id), headers=world.clinician.headers)

    refused = read_log(client, actor, world.patient.id)
    missing = read_log(client, actor, random_id())

    body = assert_problem(refused, 404)
    assert body == assert_problem(missing, 404)
    assert "patient.read" not in refused.get_data(as_text=True)


def test_without_a_token_it_is_401(client, world):
    assert_problem(client.get(access_log_url(world.patient.id)), 401)


def test_an_entry_says_who_did_what_to_which_record_when_and_how_it_ended(app, client, world):
    with frozen_at(app, T0, world.clinician, world.patient) as (clinician, patient):
        client.get(patient_url(world.patient.id), headers=clinician.headers)
    with frozen_at(app, T0 + timedelta(minutes=1), world.patient) as (patient,):
        [entry, *_] = read_log(client, patient, world.patient.id).get_json()["items"]

    assert set(entry) == ENTRY_KEYS
    assert set(entry["actor"]) == ACTOR_KEYS
    assert entry["actor"] == {
        "id": world.clinician.id,
        "name": "Dr. Alice Able",
        "role": "clinician",
    }
    assert entry["action"] == "patient.read"
    assert entry["resource_type"] == "patient"
    assert entry["resource_id"] == world.patient.id
    assert entry["outcome"] == "success"
    assert_utc(entry["occurred_at"])
    assert parse(entry["occurred_at"]) == T0
    [stored] = stored_events(app, action="patient.read")
    assert entry["id"] == str(stored.id)


def test_refused_attempts_show_up_as_denied_with_who_tried(client, world):
    client.get(patient_url(world.patient.id), headers=world.other_clinician.headers)
    client.get(patient_url(world.patient.id))

    items = read_log(client, world.patient, world.patient.id).get_json()["items"]

    attempts = [item for item in items if item["action"] == "patient.read"]
    assert {(item["actor"]["id"], item["outcome"]) for item in attempts} == {
        (world.other_clinician.id, "denied"),
        (None, "denied"),
    }
    anonymous = next(item for item in attempts if item["actor"]["id"] is None)
    assert anonymous["actor"] == {"id": None, "name": None, "role": None}


def test_entries_come_newest_first(app, client, world):
    readers = (world.clinician, world.admin, world.patient)
    for minute, reader in enumerate(readers):
        with frozen_at(app, T0 + timedelta(minutes=minute), reader) as (fresh,):
            client.get(patient_url(world.patient.id), headers=fresh.headers)
    with frozen_at(app, T0 + timedelta(hours=1), world.patient) as (patient,):
        items = read_log(client, patient, world.patient.id).get_json()["items"]

    assert [item["actor"]["id"] for item in items] == [
        world.patient.id,
        world.admin.id,
        world.clinician.id,
    ]
    assert [parse(item["occurred_at"]) for item in items] == [
        T0 + timedelta(minutes=2),
        T0 + timedelta(minutes=1),
        T0,
    ]


def test_cursor_pages_walk_the_whole_log_once_in_order(app, client, world):
    for reader in (world.clinician, world.admin, world.patient) * 3:
        client.get(patient_url(world.patient.id), headers=reader.headers)
    expected = newest_ids(app, patient_id=world.patient.user.id)
    assert len(expected) == 9

    items = follow(client, access_log_url(world.patient.id), world.patient.headers, limit=2)

    # Reading pages logs new (newer) events, which later pages, seeking past the cursor, skip.
    assert [item["id"] for item in items] == expected
    assert newest_first(items)


def test_the_first_page_is_limit_long_and_says_where_to_go_on(client, world):
    for _ in range(3):
        client.get(patient_url(world.patient.id), headers=world.clinician.headers)

    first = read_log(client, world.patient, world.patient.id, limit=2).get_json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]

    everything = read_log(client, world.patient, world.patient.id, limit=100).get_json()
    assert everything["next_cursor"] is None
    # 3 reads of the record and the access-log read before this one.
    assert len(everything["items"]) == 4


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"cursor": "not-a-cursor"}, "cursor")],
)
def test_bad_paging_is_422(client, world, params, field):
    assert_problem(read_log(client, world.patient, world.patient.id, **params), 422, field)


def test_only_this_patients_events_are_listed(app, client, world):
    client.get(patient_url(world.other_patient.id), headers=world.other_clinician.headers)
    client.get(patient_url(world.other_patient.id), headers=world.admin.headers)
    client.get(patient_url(world.patient.id), headers=world.admin.headers)
    client.get(
        f"{patient_url(world.other_patient.id)}/checkins", headers=world.other_patient.headers
    )
    client.get(f"{patient_url(world.patient.id)}/checkins", headers=world.patient.headers)

    items = read_log(client, world.admin, world.patient.id).get_json()["items"]

    assert sorted(item["action"] for item in items) == ["checkin.list", "patient.read"]
    mine = {str(event.id) for event in stored_events(app, patient_id=world.patient.user.id)}
    assert {item["id"] for item in items} <= mine
    assert all(item["resource_id"] != world.other_patient.id for item in items)
    other = read_log(client, world.other_patient, world.other_patient.id).get_json()["items"]
    assert sorted(item["action"] for item in other) == [
        "checkin.list",
        "patient.read",
        "patient.read",
    ]


def test_reading_the_access_log_is_itself_logged(client, world):
    client.get(patient_url(world.patient.id), headers=world.patient.headers)
    first = read_log(client, world.clinician, world.patient.id).get_json()["items"]
    assert [item["action"] for item in first] == ["patient.read"]

    second = read_log(client, world.patient, world.patient.id).get_json()["items"]

    assert [item["action"] for item in second] == ["access_log.read", "patient.read"]
    logged = second[0]
    assert logged["actor"] == {
        "id": world.clinician.id,
        "name": "Dr. Alice Able",
        "role": "clinician",
    }
    assert logged["resource_type"] == "access_log"
    assert logged["outcome"] == "success"


def test_a_refused_read_of_the_access_log_is_logged_for_the_patient_too(client, world):
    read_log(client, world.lone_clinician, world.patient.id)

    [entry] = read_log(client, world.patient, world.patient.id).get_json()["items"]

    assert entry["action"] == "access_log.read"
    assert entry["actor"]["id"] == world.lone_clinician.id
    assert entry["outcome"] == "denied"
