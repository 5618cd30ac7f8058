"""GET /audit (api-contract): admins only; the whole audit trail, newest first, filterable by
actor, patient, action, outcome and time, cursor-paginated; every item carries its place in the
hash chain (sequence and hash)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.problems import assert_problem, assert_utc
from tests.record_rights.rights_helpers import (
    ACTOR_KEYS,
    AUDIT,
    AUDIT_KEYS,
    follow,
    frozen_at,
    newest_first,
    newest_ids,
    parse,
    patient_url,
    random_id,
    stored_events,
)

T1 = datetime(2031, 5, 6, 9, 0, tzinfo=UTC)
T2 = T1 + timedelta(hours=1)
T3 = T1 + timedelta(hours=2)
LATER = T1 + timedelta(days=1)
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def search(client, actor, **params):
    return client.get(AUDIT, headers=actor.headers, query_string=params)


def items_of(response):
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def without_own_reads(items):
    """The items, less the admin's own reads of the trail (each search is logged too)."""
    return [item for item in items if item["action"] != "audit.read"]


@pytest.fixture
def mixed(client, world):
    """Events of every outcome by several actors on both patients:
    clinician reads patient (success), other_clinician reads patient (denied),
    other_clinician reads other_patient (success), patient reads own check-ins (success),
    clinician fails an update of patient (failed, 428), anonymous reads other_patient
    (denied)."""
    client.get(patient_url(world.patient.id), headers=world.clinician.headers)
    client.get(patient_url(world.patient.id), headers=world.other_clinician.headers)
    client.get(patient_url(world.other_patient.id), headers=world.other_clinician.headers)
    client.get(f"{patient_url(world.patient.id)}/checkins", headers=world.patient.headers)
    client.patch(patient_url(world.patient.id), json={"name": "X"}, headers=world.clinician.headers)
    client.get(patient_url(world.other_patient.id))
    return world


@pytest.mark.parametrize(("role", "status"), [("clinician", 403), ("patient", 403)])
def test_only_admins_may_read_the_trail(client, world, role, status):
    assert_problem(search(client, getattr(world, role)), status)


def test_without_a_token_it_is_401(client, world):
    assert_problem(client.get(AUDIT), 401)


def test_a_refused_search_is_itself_audited(app, client, world):
    search(client, world.clinician)

    [event] = stored_events(app, action="audit.read")
    assert str(event.actor_id) == world.clinician.id
    assert (event.outcome, event.status_code) == ("denied", 403)


def test_every_item_carries_its_place_in_the_chain(app, client, mixed):
    items = without_own_reads(items_of(search(client, mixed.admin)))

    stored = {str(event.id): event for event in stored_events(app)}
    assert len(items) == 6
    for item in items:
        assert set(item) == AUDIT_KEYS
        assert set(item["actor"]) == ACTOR_KEYS
        assert_utc(item["occurred_at"])
        event = stored[item["id"]]
        assert item["sequence"] == event.sequence
        assert isinstance(item["sequence"], int)
        assert SHA256_HEX.match(item["hash"])
        assert item["hash"] == event.hash
        assert item["status_code"] == event.status_code
        assert item["request_id"] == event.request_id
    assert sorted(item["sequence"] for item in items) == list(range(1, 7))


def test_items_come_newest_first(client, mixed):
    items = items_of(search(client, mixed.admin))

    assert newest_first(items)
    # In one unfrozen run the chain order and the time order agree.
    sequences = [item["sequence"] for item in items]
    assert sequences == sorted(sequences, reverse=True)


def test_filter_by_actor(client, mixed):
    items = items_of(search(client, mixed.admin, actor_id=mixed.other_clinician.id))

    assert len(items) == 2
    assert {item["actor"]["id"] for item in items} == {mixed.other_clinician.id}
    assert {item["actor"]["name"] for item in items} == {"Dr. Bob Baker"}


def test_filter_by_patient(client, mixed):
    items = items_of(search(client, mixed.admin, patient_id=mixed.patient.id))

    assert {item["patient_id"] for item in items} == {mixed.patient.id}
    assert sorted((item["action"], item["outcome"]) for item in items) == [
        ("checkin.list", "success"),
        ("patient.read", "denied"),
        ("patient.read", "success"),
        ("patient.update", "failed"),
    ]


def test_filter_by_action(client, mixed):
    items = items_of(search(client, mixed.admin, action="patient.read"))

    assert len(items) == 4
    assert {item["action"] for item in items} == {"patient.read"}


def test_filter_by_an_action_nobody_took_is_empty(client, mixed):
    assert items_of(search(client, mixed.admin, action="patient.delete")) == []


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("success", [("checkin.list", 200), ("patient.read", 200), ("patient.read", 200)]),
        ("denied", [("patient.read", 401), ("patient.read", 404)]),
        ("failed", [("patient.update", 428)]),
    ],
)
def test_filter_by_outcome(client, mixed, outcome, expected):
    items = without_own_reads(items_of(search(client, mixed.admin, outcome=outcome)))

    assert {item["outcome"] for item in items} == {outcome}
    assert sorted((item["action"], item["status_code"]) for item in items) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": "SUCCESS"}, "outcome"),
        ({"actor_id": "42"}, "actor_id"),
        ({"patient_id": "not-a-uuid"}, "patient_id"),
        ({"from": "2031-05-06T09:00:00"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"action": "a" * 65}, "action"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"cursor": "!!"}, "cursor"),
    ],
)
def test_invalid_filters_are_422(client, world, params, field):
    assert_problem(search(client, world.admin, **params), 422, field)


def test_filters_combine(client, mixed):
    items = items_of(
        search(
            client,
            mixed.admin,
            patient_id=mixed.patient.id,
            actor_id=mixed.clinician.id,
            outcome="success",
        )
    )

    assert [(item["action"], item["actor"]["id"]) for item in items] == [
        ("patient.read", mixed.clinician.id)
    ]


@pytest.fixture
def timed(app, client, world):
    """patient.read events at T1 (clinician), T2 (admin, twice) and T3 (patient)."""
    moments = [(T1, world.clinician), (T2, world.admin), (T2, world.admin), (T3, world.patient)]
    for moment, actor in moments:
        with frozen_at(app, moment, actor) as (fresh,):
            response = client.get(patient_url(world.patient.id), headers=fresh.headers)
            assert response.status_code == 200
    return world


def search_later(app, client, world, **params):
    """Search at LATER, after every timed event; the searches themselves are logged there."""
    with frozen_at(app, LATER, world.admin) as (admin,):
        return without_own_reads(items_of(search(client, admin, **params)))


def times(items):
    return [parse(item["occurred_at"]) for item in items]


def test_from_is_inclusive(app, client, timed):
    items = search_later(app, client, timed, **{"from": T2.isoformat()})

    assert times(items) == [T3, T2, T2]


def test_to_is_exclusive(app, client, timed):
    items = search_later(app, client, timed, to=T2.isoformat())

    assert times(items) == [T1]
    assert items[0]["actor"]["id"] == timed.clinician.id


def test_from_and_to_make_a_window(app, client, timed):
    items = search_later(app, client, timed, **{"from": T1.isoformat(), "to": T3.isoformat()})

    assert times(items) == [T2, T2, T1]


def test_a_window_with_nothing_in_it_is_empty(app, client, timed):
    before = T1 - timedelta(days=1)
    items = search_later(app, client, timed, **{"from": before.isoformat(), "to": T1.isoformat()})

    assert items == []


def test_times_with_an_offset_mean_the_same_instant(app, client, timed):
    paris = timezone(timedelta(hours=1))
    items = search_later(app, client, timed, **{"from": T2.astimezone(paris).isoformat()})

    assert "+01:00" in T2.astimezone(paris).isoformat()
    assert times(items) == [T3, T2, T2]
    assert all(item["occurred_at"].endswith(("Z", "+00:00")) for item in items)


def test_the_search_itself_is_logged_at_its_own_time(app, client, timed):
    search_later(app, client, timed, to=T2.isoformat())

    [event] = stored_events(app, action="audit.read")
    assert event.occurred_at == LATER
    assert str(event.actor_id) == timed.admin.id
    assert (event.outcome, event.status_code) == ("success", 200)


def test_pages_walk_the_filtered_trail_once_newest_first(app, client, world):
    for _ in range(7):
        client.get(patient_url(world.patient.id), headers=world.clinician.headers)
        client.get(patient_url(world.patient.id), headers=world.admin.headers)
    expected = newest_ids(app, actor_id=world.clinician.user.id)
    assert len(expected) == 7

    items = follow(client, AUDIT, world.admin.headers, limit=3, actor_id=world.clinician.id)

    assert [item["id"] for item in items] == expected
    assert newest_first(items)


def test_pages_of_the_unfiltered_trail_skip_the_searches_made_while_paging(app, client, world):
    for _ in range(5):
        client.get(patient_url(world.patient.id), headers=world.clinician.headers)
    expected = newest_ids(app)
    assert len(expected) == 5

    items = follow(client, AUDIT, world.admin.headers, limit=2)

    assert [item["id"] for item in items] == expected
    assert len(stored_events(app, action="audit.read")) == 3


def test_an_unknown_actor_matches_nothing(client, mixed):
    assert items_of(search(client, mixed.admin, actor_id=random_id())) == []
