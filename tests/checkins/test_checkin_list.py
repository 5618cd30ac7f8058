"""GET /patients/{id}/checkins: newest first by when the patient recorded it, cursor pages that
hand out every check-in exactly once, and the from, to, instrument and updated_since filters."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from tests.checkins.checkin_helpers import (
    GAD7_MILD,
    NOW,
    PCL5_LOW,
    PHQ9_MILD,
    assert_problem,
    assert_utc,
    checkin_body,
    collect_all,
    list_ids,
    list_page,
    parse,
    patient_checkins_url,
    submitted,
)

pytestmark = pytest.mark.usefixtures("clock")


def submit_at(client, actor, hours_ago: float, **fields):
    """A check-in recorded `hours_ago` before NOW; its JSON."""
    recorded = NOW - timedelta(hours=hours_ago)
    return submitted(client, actor, checkin_body(recorded_at=recorded.isoformat(), **fields))


def test_newest_recorded_comes_first_whatever_the_order_of_arrival(client, world):
    hours = [5, 1, 30, 2, 72, 0.5, 12]
    made = {h: submit_at(client, world.patient, h)["id"] for h in hours}

    listed = list_ids(client, world.patient, world.patient.id)

    assert listed == [made[h] for h in sorted(hours)]


def test_a_late_offline_check_in_is_listed_by_when_it_was_recorded(client, world):
    today = submit_at(client, world.patient, 1)
    three_days_ago = submit_at(client, world.patient, 72)  # arrives last
    yesterday = submit_at(client, world.patient, 24)

    listed = list_ids(client, world.patient, world.patient.id)

    assert listed == [today["id"], yesterday["id"], three_days_ago["id"]]


def test_items_carry_times_in_utc_and_their_scores(client, world):
    submitted(
        client,
        world.patient,
        checkin_body(recorded_at="2026-12-01T08:15:00+02:00", instruments={"PHQ-9": PHQ9_MILD}),
    )

    [item] = list_page(client, world.patient, world.patient.id)["items"]

    for name in ("recorded_at", "received_at", "updated_at"):
        assert_utc(item[name])
    assert parse(item["recorded_at"]) == NOW - timedelta(hours=5, minutes=45)
    assert item["scores"] == {"PHQ-9": {"total": 6, "band": "mild"}}
    assert "crisis_message" not in item
    assert "alerts" not in item


def test_a_page_counts_check_ins_not_scores_and_keeps_each_ones_scores(client, world):
    # The page and its scores are one joined statement: a check-in with three scores is three
    # rows of it, yet one item, and the page size counts items.
    three = {"PHQ-9": PHQ9_MILD, "GAD-7": GAD7_MILD, "PCL-5": PCL5_LOW}
    made = [
        submit_at(client, world.patient, hours, instruments=answers)
        for hours, answers in ((1, three), (2, None), (3, {"GAD-7": GAD7_MILD}), (4, three))
    ]

    pages = [list_page(client, world.patient, world.patient.id, limit=2)]
    pages.append(
        list_page(client, world.patient, world.patient.id, limit=2, cursor=pages[0]["next_cursor"])
    )

    assert [len(page["items"]) for page in pages] == [2, 2]
    assert pages[1]["next_cursor"] is None
    listed = [item for page in pages for item in page["items"]]
    assert [item["id"] for item in listed] == [checkin["id"] for checkin in made]
    assert [sorted(item["scores"]) for item in listed] == [
        ["GAD-7", "PCL-5", "PHQ-9"],
        [],
        ["GAD-7"],
        ["GAD-7", "PCL-5", "PHQ-9"],
    ]
    assert [item["scores"] for item in listed] == [checkin["scores"] for checkin in made]


def test_a_page_past_the_end_of_a_visible_list_is_empty_not_missing(client, world):
    # An empty page is the one case that asks again whether the caller may see the patient.
    since = (NOW - timedelta(hours=1.5)).isoformat()
    newest = submit_at(client, world.patient, 1)
    submit_at(client, world.patient, 2)
    first = list_page(client, world.patient, world.patient.id, limit=1)

    beyond = list_page(
        client,
        world.patient,
        world.patient.id,
        limit=1,
        cursor=first["next_cursor"],
        **{"from": since},
    )

    assert [item["id"] for item in first["items"]] == [newest["id"]]
    assert beyond == {"items": [], "next_cursor": None}


def test_an_empty_list(client, world):
    assert list_page(client, world.clinician, world.patient.id) == {
        "items": [],
        "next_cursor": None,
    }


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 11, 12])
def test_following_next_cursor_hands_out_every_check_in_exactly_once(client, world, limit):
    # Eleven check-ins, several recorded at the same instant, so the id breaks ties.
    rng = random.Random(limit)
    hours = [1, 1, 1, 2, 3, 3, 4, 5, 5, 5, 6]
    rng.shuffle(hours)
    for h in hours:
        submit_at(client, world.patient, h)
    submit_at(client, world.other_patient, 1)  # never in world.patient's list

    pages = collect_all(client, world.clinician, world.patient.id, limit=limit)

    ids = [item["id"] for item in pages]
    assert len(ids) == len(hours)
    assert len(set(ids)) == len(hours)
    assert ids == list_ids(client, world.clinician, world.patient.id)
    recorded = [parse(item["recorded_at"]) for item in pages]
    assert recorded == sorted(recorded, reverse=True)
    assert {item["patient_id"] for item in pages} == {world.patient.id}


def test_the_default_page_is_fifty(client, world):
    for i in range(51):
        submit_at(client, world.patient, i / 10)

    first = list_page(client, world.patient, world.patient.id)
    rest = list_page(client, world.patient, world.patient.id, cursor=first["next_cursor"])

    assert len(first["items"]) == 50
    assert first["next_cursor"] is not None
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None


def test_the_last_full_page_has_no_next_cursor(client, world):
    for h in (1, 2, 3):
        submit_at(client, world.patient, h)

    body = list_page(client, world.patient, world.patient.id, limit=3)

    assert len(body["items"]) == 3
    assert body["next_cursor"] is None


def test_a_check_in_arriving_between_pages_does_not_shift_the_pages(client, world):
    for h in (1, 2, 3, 4):
        submit_at(client, world.patient, h)
    first = list_page(client, world.patient, world.patient.id, limit=2)
    newest = submit_at(client, world.patient, 0.1)

    second = list_page(
        client, world.patient, world.patient.id, limit=2, cursor=first["next_cursor"]
    )

    seen = [item["id"] for item in first["items"] + second["items"]]
    assert len(set(seen)) == 4
    assert newest["id"] not in seen
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    "query, field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "W10"}, "cursor"),  # base64 of "[]"
        ({"from": "2026-12-01T10:00:00"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"updated_since": "2026-12-01"}, "updated_since"),
        ({"instrument": "BDI-II"}, "instrument"),
        ({"instrument": "phq-9"}, "instrument"),
        ({"instrument": ""}, "instrument"),
    ],
)
def test_bad_query_parameters_are_refused_naming_them(client, world, query, field):
    response = client.get(
        patient_checkins_url(world.patient.id), headers=world.patient.headers, query_string=query
    )

    assert_problem(response, 422, field)


# --- filters ----------------------------------------------------------------------------------


@pytest.fixture
def hourly(client, world):
    """Check-ins of world.patient recorded 1, 2, 3, 4 and 5 hours before NOW: {hours: id}."""
    return {h: submit_at(client, world.patient, h)["id"] for h in (1, 2, 3, 4, 5)}


def at(hours_ago: int, offset: str = "+00:00") -> str:
    moment = NOW - timedelta(hours=hours_ago)
    return moment.astimezone(datetime.strptime(offset, "%z").tzinfo).isoformat()


def test_from_is_inclusive_and_to_is_exclusive(client, world, hourly):
    listed = list_ids(client, world.patient, world.patient.id, **{"from": at(4), "to": at(2)})

    assert listed == [hourly[3], hourly[4]]


def test_from_and_to_compare_instants_whatever_their_offset(client, world, hourly):
    query = {"from": at(4, "-05:00"), "to": at(2, "+09:30")}

    listed = list_ids(client, world.patient, world.patient.id, **query)

    assert listed == [hourly[3], hourly[4]]


def test_from_alone_and_to_alone(client, world, hourly):
    since = list_ids(client, world.patient, world.patient.id, **{"from": at(2)})
    until = list_ids(client, world.patient, world.patient.id, to=at(2))

    assert since == [hourly[1], hourly[2]]
    assert until == [hourly[3], hourly[4], hourly[5]]
    assert sorted(since + until) == sorted(hourly.values())


def test_an_empty_or_inverted_window_lists_nothing(client, world, hourly):
    assert list_ids(client, world.patient, world.patient.id, **{"from": at(3), "to": at(3)}) == []
    assert list_ids(client, world.patient, world.patient.id, **{"from": at(2), "to": at(4)}) == []


def test_a_window_pages_like_the_whole_list(client, world, hourly):
    pages = collect_all(
        client, world.patient, world.patient.id, limit=1, **{"from": at(5), "to": at(1)}
    )

    assert [item["id"] for item in pages] == [hourly[2], hourly[3], hourly[4], hourly[5]]


def test_the_instrument_filter_keeps_only_check_ins_that_include_it(client, world):
    phq = submit_at(client, world.patient, 1, instruments={"PHQ-9": PHQ9_MILD})["id"]
    gad = submit_at(client, world.patient, 2, instruments={"GAD-7": GAD7_MILD})["id"]
    both = submit_at(
        client, world.patient, 3, instruments={"PHQ-9": PHQ9_MILD, "GAD-7": GAD7_MILD}
    )["id"]
    submit_at(client, world.patient, 4)  # mood only
    submit_at(client, world.other_patient, 1, instruments={"PHQ-9": PHQ9_MILD})

    assert list_ids(client, world.patient, world.patient.id, instrument="PHQ-9") == [phq, both]
    assert list_ids(client, world.patient, world.patient.id, instrument="GAD-7") == [gad, both]
    assert list_ids(client, world.patient, world.patient.id, instrument="PCL-5") == []


def test_the_instrument_filter_pages_and_combines_with_a_window(client, world):
    ids = [
        submit_at(client, world.patient, h, instruments={"PCL-5": PCL5_LOW})["id"]
        for h in (1, 2, 3, 4)
    ]
    submit_at(client, world.patient, 2.5)  # inside the window, without the PCL-5

    pages = collect_all(
        client,
        world.clinician,
        world.patient.id,
        limit=1,
        instrument="PCL-5",
        **{"from": at(3), "to": at(1)},
    )

    assert [item["id"] for item in pages] == [ids[1], ids[2]]
    assert all("PCL-5" in item["scores"] for item in pages)


def test_updated_since_returns_what_changed_at_or_after_it(client, world, clock):
    early = submit_at(client, world.patient, 1)["id"]
    clock.shift(timedelta(minutes=3))
    boundary = NOW + timedelta(minutes=3)
    # Recorded long ago but received (so changed) now: a delta sync must still pick it up.
    late_offline = submit_at(client, world.patient, 48)["id"]
    clock.shift(timedelta(minutes=2))
    latest = submit_at(client, world.patient, 0)["id"]

    changed = list_ids(client, world.patient, world.patient.id, updated_since=boundary.isoformat())
    everything = list_ids(
        client, world.patient, world.patient.id, updated_since=(NOW - timedelta(days=1)).isoformat()
    )
    nothing = list_ids(
        client,
        world.patient,
        world.patient.id,
        updated_since=(NOW + timedelta(hours=1)).isoformat(),
    )

    assert changed == [latest, late_offline]
    assert everything == [latest, early, late_offline]
    assert nothing == []
