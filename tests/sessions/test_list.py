"""GET /api/v1/sessions and /sessions/{id}: clinicians see their care-team patients' sessions,
patients their own; lists filter, page by cursor in start order, and sync by `updated_since`."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from telehealth.audit.models import Outcome
from tests.factories import make_patient
from tests.record_rights.rights_helpers import stored_events
from tests.sessions.helpers import (
    API,
    SESSIONS,
    act,
    assert_problem,
    assert_utc,
    frozen_at,
    list_items,
    parse,
    random_id,
    scheduled,
    session_url,
    utc,
)


def ids(items):
    return [item["id"] for item in items]


def collect_pages(client, actor, limit, **query):
    """Every page of GET /sessions, following `next_cursor`; all items in order."""
    items, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit, **query, **({"cursor": cursor} if cursor else {})}
        response = client.get(SESSIONS, headers=actor.headers, query_string=params)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        pages += 1
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert len(page["items"]) == limit
        assert pages < 50, "pagination does not end"


@pytest.fixture
def two_teams(client, world):
    """world.clinician's patient has two sessions, world.other_clinician's patient one."""
    mine_late = scheduled(client, world.clinician, world.patient.id, "2026-12-03T13:00:00Z")
    mine_early = scheduled(client, world.clinician, world.patient.id, "2026-12-01T13:00:00Z")
    theirs = scheduled(client, world.other_clinician, world.other_patient.id)
    return {"mine": [mine_early["id"], mine_late["id"]], "theirs": [theirs["id"]]}


# One session


@pytest.mark.parametrize("who", ["clinician", "patient"])
def test_the_care_team_and_the_patient_read_a_session(client, world, two_teams, who):
    session_id = two_teams["mine"][0]

    response = client.get(session_url(session_id), headers=getattr(world, who).headers)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == session_id
    assert response.headers["ETag"]


@pytest.mark.parametrize("who", ["other_patient", "other_clinician", "lone_clinician"])
def test_anyone_else_gets_the_same_404_as_for_a_missing_session(client, world, two_teams, who):
    actor = getattr(world, who)

    foreign = client.get(session_url(two_teams["mine"][0]), headers=actor.headers)
    missing = client.get(session_url(random_id()), headers=actor.headers)

    assert assert_problem(foreign, 404) == assert_problem(missing, 404)
    assert foreign.headers.get("ETag") is None


def test_admins_may_not_read_sessions(client, world, two_teams):
    assert_problem(client.get(session_url(two_teams["mine"][0]), headers=world.admin.headers), 403)
    assert_problem(client.get(SESSIONS, headers=world.admin.headers), 403)


def test_a_malformed_session_id_is_404(client, world):
    response = client.get(f"{SESSIONS}/12345", headers=world.clinician.headers)

    assert_problem(response, 404)


# Lists: who sees what


def test_a_clinician_lists_the_care_team_patients_sessions_by_start(client, world, two_teams):
    items = list_items(client, world.clinician)

    assert ids(items) == two_teams["mine"]
    for item in items:
        assert_utc(item["scheduled_start"])
        assert item["scheduled_start_local"].endswith("-05:00")


def test_a_patient_lists_only_their_own_sessions(client, world, two_teams):
    assert ids(list_items(client, world.patient)) == two_teams["mine"]
    assert ids(list_items(client, world.other_patient)) == two_teams["theirs"]


def test_a_clinician_on_no_team_lists_nothing(client, world, two_teams):
    assert list_items(client, world.lone_clinician) == []


def test_a_clinician_sees_sessions_colleagues_scheduled_for_shared_patients(
    client, world, two_teams
):
    client.put(
        f"{API}/patients/{world.other_patient.id}/care-team/{world.clinician.id}",
        headers=world.other_clinician.headers,
    )

    listed = ids(list_items(client, world.clinician))

    assert sorted(listed) == sorted(two_teams["mine"] + two_teams["theirs"])
    # The other clinician still sees only their own team's patient.
    assert ids(list_items(client, world.other_clinician)) == two_teams["theirs"]


# Issue 18: an empty 200 was an existence oracle and logged a successful read of the patient.
@pytest.mark.parametrize("who", ["clinician", "patient", "lone_clinician"])
def test_filtering_by_a_foreign_patient_is_404_and_logs_no_success(
    app, client, world, two_teams, who
):
    actor = getattr(world, who)
    foreign = world.other_patient.id

    hidden = client.get(SESSIONS, headers=actor.headers, query_string={"patient_id": foreign})
    missing = client.get(SESSIONS, headers=actor.headers, query_string={"patient_id": random_id()})

    assert_problem(hidden, 404)
    assert_problem(missing, 404)
    assert hidden.get_json() == missing.get_json()
    events = stored_events(app, patient_id=uuid.UUID(foreign), action="session.list")
    assert events, "the probe is still recorded"
    assert [event.outcome for event in events] == [Outcome.DENIED]


# Filters


def test_filter_by_patient(app, client, world, two_teams):
    second = str(make_patient(app, world.clinician.user, name="Quinn Second").id)
    theirs = scheduled(client, world.clinician, second, "2026-12-02T13:00:00Z")

    assert ids(list_items(client, world.clinician, patient_id=second)) == [theirs["id"]]
    assert (
        ids(list_items(client, world.clinician, patient_id=world.patient.id)) == two_teams["mine"]
    )


def test_filter_by_status(client, world, two_teams):
    early, late = two_teams["mine"]
    act(client, world.clinician, early, "cancel")

    assert ids(list_items(client, world.clinician, status="cancelled")) == [early]
    assert ids(list_items(client, world.clinician, status="scheduled")) == [late]
    assert list_items(client, world.clinician, status="in_progress") == []


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ({"from": "2026-12-01T13:00:00Z"}, [0, 1]),  # from is inclusive
        ({"from": "2026-12-01T13:00:01Z"}, [1]),
        ({"to": "2026-12-03T13:00:00Z"}, [0]),  # to is exclusive
        ({"to": "2026-12-03T13:00:01Z"}, [0, 1]),
        ({"from": "2026-12-02T00:00:00Z", "to": "2026-12-04T00:00:00Z"}, [1]),
        # The same instants with other offsets.
        ({"from": "2026-12-01T08:00:00-05:00"}, [0, 1]),
        ({"to": "2026-12-03T14:00:00+01:00"}, [0]),
        ({"from": "2026-12-05T00:00:00Z"}, []),
    ],
)
def test_filter_by_start_window(client, world, two_teams, window, expected):
    listed = ids(list_items(client, world.clinician, **window))

    assert listed == [two_teams["mine"][i] for i in expected]


def test_updated_since_returns_only_sessions_changed_since(app, client, world):
    base = utc(2026, 12, 1, 12, 0)
    with frozen_at(app, base, world.clinician) as (clinician,):
        first = scheduled(client, clinician, world.patient.id, "2026-12-01T13:00:00Z")
        second = scheduled(client, clinician, world.patient.id, "2026-12-02T13:00:00Z")
    later = base + timedelta(hours=1)
    with frozen_at(app, later, world.clinician) as (clinician,):
        moved = act(client, clinician, first["id"], "start").get_json()
        changed_since = list_items(client, clinician, updated_since=later.isoformat())
        since_before = list_items(
            client, clinician, updated_since=(later - timedelta(seconds=1)).isoformat()
        )
        since_base = list_items(client, clinician, updated_since=base.isoformat())
        since_after = list_items(
            client, clinician, updated_since=(later + timedelta(seconds=1)).isoformat()
        )

    assert parse(moved["updated_at"]) == later
    assert ids(changed_since) == [first["id"]]  # updated_since is inclusive
    assert ids(since_before) == [first["id"]]
    assert ids(since_base) == [first["id"], second["id"]]
    assert since_after == []


def test_updated_since_sees_reschedules_and_medication_records(app, client, world):
    base = utc(2026, 12, 1, 12, 0)
    with frozen_at(app, base, world.clinician) as (clinician,):
        first = scheduled(client, clinician, world.patient.id, "2026-12-01T13:00:00Z")
        second = scheduled(client, clinician, world.patient.id, "2026-12-02T13:00:00Z")
    later = base + timedelta(minutes=30)
    with frozen_at(app, later, world.clinician, world.patient) as (clinician, patient):
        tag = client.get(session_url(second["id"]), headers=clinician.headers).headers["ETag"]
        rescheduled = client.patch(
            session_url(second["id"]),
            json={"notes": "moved"},
            headers={**clinician.headers, "If-Match": tag},
        )
        assert rescheduled.status_code == 200
        assert act(client, clinician, first["id"], "start").status_code == 200
        taken = client.post(
            session_url(first["id"], "medication-taken"), json={}, headers=patient.headers
        )
        assert taken.status_code == 200
        synced = list_items(client, patient, updated_since=later.isoformat())

    assert ids(synced) == [first["id"], second["id"]]


@pytest.mark.parametrize(
    "query",
    [
        {"patient_id": "not-a-uuid"},
        {"status": "done"},
        {"status": "SCHEDULED"},
        {"from": "2026-12-01T13:00:00"},  # naive
        {"from": "yesterday"},
        {"to": "2026-13-01T00:00:00Z"},
        {"updated_since": "2026-12-01"},
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
        {"cursor": "not a cursor"},
        {"cursor": "W10"},  # base64 of "[]": decodes, but to nothing of this list
    ],
)
def test_invalid_filters_are_422_naming_them(client, world, two_teams, query):
    response = client.get(SESSIONS, headers=world.clinician.headers, query_string=query)

    (name,) = query
    assert_problem(response, 422, name)


# Pagination


def test_pages_follow_the_cursor_through_every_session_once_by_start(client, world):
    starts = [f"2026-12-{day:02d}T13:00:00Z" for day in (9, 2, 7, 1, 5, 3, 8)]
    created = [scheduled(client, world.clinician, world.patient.id, start) for start in starts]
    expected = [s["id"] for s in sorted(created, key=lambda s: s["scheduled_start"])]

    for limit in (1, 2, 3, 7, 100):
        assert ids(collect_pages(client, world.clinician, limit)) == expected


def test_sessions_starting_at_the_same_time_page_without_loss_or_repeats(app, client, world):
    # world.clinician joins the other team; each clinician books the same slots for their own
    # patient, so world.clinician's list holds pairs of sessions with equal starts.
    client.put(
        f"{API}/patients/{world.other_patient.id}/care-team/{world.clinician.id}",
        headers=world.other_clinician.headers,
    )
    created = []
    for day in (1, 2, 3):
        start = f"2026-12-0{day}T13:00:00Z"
        created.append(scheduled(client, world.clinician, world.patient.id, start))
        created.append(scheduled(client, world.other_clinician, world.other_patient.id, start))
    expected = [s["id"] for s in sorted(created, key=lambda s: (s["scheduled_start"], s["id"]))]

    for limit in (1, 2, 3, 4, 5):
        assert ids(collect_pages(client, world.clinician, limit)) == expected


def test_pagination_composes_with_filters(client, world):
    created = [
        scheduled(client, world.clinician, world.patient.id, f"2026-12-{day:02d}T13:00:00Z")
        for day in range(1, 8)
    ]
    for session in created[::2]:
        act(client, world.clinician, session["id"], "no-show")

    listed = collect_pages(client, world.clinician, 2, status="scheduled")

    assert ids(listed) == [s["id"] for s in created[1::2]]


def test_the_default_page_size_is_50(app, client, world):
    for index in range(51):
        start = utc(2026, 12, 2) + timedelta(hours=index)
        scheduled(client, world.clinician, world.patient.id, start.isoformat(), duration=60)

    page = client.get(SESSIONS, headers=world.clinician.headers).get_json()

    assert len(page["items"]) == 50
    assert page["next_cursor"]


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_pages_across_many_patients_merge_into_one_order(app, client, world, limit):
    """A clinician's list draws on every care-team patient (on PostgreSQL each patient's
    first rows are read by their own index seek and merged): the pages, followed to the end,
    are every session once, in (start, id) order, ties across patients included."""
    helper = world.other_clinician
    patients = [make_patient(app, world.clinician.user, name=f"Pat {i}") for i in range(4)]
    for patient in patients:
        added = client.put(
            f"{API}/patients/{patient.id}/care-team/{helper.user.id}",
            headers=world.clinician.headers,
        )
        assert added.status_code in (200, 201, 204), added.get_json()
    mine = []
    for day in range(3):
        for i, patient in enumerate(patients):
            start = f"2026-12-{day + 2:02d}T{8 + 3 * i:02d}:00:00Z"
            mine.append(scheduled(client, world.clinician, str(patient.id), start, 60))
        # The same moments again, run by the other clinician for the other patients: ties.
        for i, patient in enumerate(reversed(patients)):
            start = f"2026-12-{day + 2:02d}T{8 + 3 * i:02d}:00:00Z"
            mine.append(scheduled(client, helper, str(patient.id), start, 60))
    expected = sorted(mine, key=lambda s: (parse(s["scheduled_start"]), s["id"]))

    assert ids(collect_pages(client, world.clinician, limit)) == ids(expected)
    assert ids(collect_pages(client, world.clinician, limit, patient_id=str(patients[1].id))) == [
        s["id"] for s in expected if s["patient_id"] == str(patients[1].id)
    ]
    later = [s for s in expected if parse(s["scheduled_start"]) >= utc(2026, 12, 2)]
    assert ids(
        collect_pages(client, world.clinician, limit, **{"from": "2026-12-02T00:00:00Z"})
    ) == ids(later)
