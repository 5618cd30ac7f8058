"""GET /alerts (api-contract and its additions): a clinician lists the alerts of their care
teams' patients, an admin every patient's (oversight), a patient never (403); open by default,
most urgent kind first (suicidal ideation, adverse event, overdue checkpoint, vital sign,
severe score, deterioration, missed check-ins), then oldest first; filters `status` (open,
acknowledged, all), `patient_id` (a patient the caller may not see is 404) and `kind`;
cursor-paginated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from telehealth.alerts.models import AlertKind
from tests.alerts.alert_helpers import (
    ALERTS,
    PRIORITY,
    ack_url,
    add_note,
    list_all,
    list_page,
    open_session,
    raise_directly,
    severe_score,
    stored_alerts,
    suicidal_ideation,
)
from tests.factories import frozen
from tests.outcomes.outcome_helpers import gad7, phq9, submit
from tests.problems import assert_problem, assert_utc, parse

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
AE = {"description": "Fainted.", "severity": "severe", "serious": True, "emergency_care": True}
# The order the list must serve the alerts `mixed` raises: by kind, then oldest first.
EXPECTED_ORDER = [
    "si-1",
    "si-2",
    "ae-1",
    "ae-2",
    "overdue-1",
    "overdue-2",
    "vital-1",
    "vital-2",
    "severe-1",
    "severe-2",
    "det-1",
    "det-2",
]


class Raiser:
    """Raises alerts for world.patient, each at its own minute after T0 on a frozen clock."""

    def __init__(self, client, world, clock):
        self.client = client
        self.world = world
        self.clock = clock
        self.ids = {}
        # An hour before T0: a session starting half an hour before T0, started, its
        # pre-session checkpoint recorded (nothing of it is ever overdue: no medication), so
        # check-ins from T0 on come after the first session (their baseline stays put).
        clock.move_to(T0 - timedelta(hours=1))
        self.session_id = open_session(
            client, world.clinician, world.patient, headers=clock.headers(world.clinician)
        )
        add_note(
            client,
            clock.headers(world.clinician),
            self.session_id,
            checkpoint="pre_session",
            observed_at=clock.now().isoformat(),
        )

    def at(self, minute):
        self.clock.move_to(T0 + timedelta(minutes=minute))

    def checkin(self, minute, label, kind, **instruments):
        self.at(minute)
        body = submit(
            self.client,
            self.world.patient,
            self.clock.now() - timedelta(seconds=30),
            headers=self.clock.headers(self.world.patient),
            **instruments,
        )
        if label is not None:
            (alert,) = [a for a in body["alerts"] if a["kind"] == kind]
            self.ids[label] = alert["id"]

    def note(self, minute, label, kind, **fields):
        self.at(minute)
        body = add_note(
            self.client,
            self.clock.headers(self.world.clinician),
            self.session_id,
            observed_at=(self.clock.now() - timedelta(seconds=30)).isoformat(),
            **fields,
        )
        (alert,) = stored_alerts(self.client.application, source_id=body["id"], kind=kind)
        self.ids[label] = str(alert.id)

    def direct(self, minute, label, kind):
        self.at(minute)
        self.ids[label] = raise_directly(self.client.application, self.world.patient.id, kind)


@pytest.fixture
def mixed(client, world):
    """Twelve alerts of every kind, raised a minute apart in jumbled urgency; yields the frozen
    clock (a minute after the last) and the ids by label."""
    with frozen(client.application, T0) as clock:
        raiser = Raiser(client, world, clock)
        raiser.checkin(0, None, None, PHQ_9=phq9(10))  # the PHQ-9 baseline: raises nothing
        raiser.direct(1, "overdue-1", AlertKind.CHECKPOINT_OVERDUE)
        raiser.note(2, "vital-1", AlertKind.VITAL_SIGN, vitals={"systolic": 170, "diastolic": 90})
        raiser.checkin(3, "severe-1", "severe_score", GAD_7=gad7(15))
        raiser.checkin(4, "si-1", "suicidal_ideation", PHQ_9=phq9(10, item9=1))
        raiser.checkin(5, "det-1", "deterioration", PHQ_9=phq9(15))
        raiser.note(6, "ae-1", AlertKind.ADVERSE_EVENT, adverse_event=AE)
        raiser.checkin(7, "severe-2", "severe_score", GAD_7=gad7(16))
        raiser.checkin(8, "si-2", "suicidal_ideation", PHQ_9=phq9(10, item9=2))
        raiser.checkin(9, "det-2", "deterioration", PHQ_9=phq9(16))
        raiser.note(10, "vital-2", AlertKind.VITAL_SIGN, vitals={"heart_rate": 130})
        raiser.direct(11, "overdue-2", AlertKind.CHECKPOINT_OVERDUE)
        raiser.note(12, "ae-2", AlertKind.ADVERSE_EVENT, adverse_event=AE)
        raiser.at(13)
        assert set(raiser.ids) == set(EXPECTED_ORDER)
        yield clock, raiser.ids


def expected_ids(ids):
    return [ids[label] for label in EXPECTED_ORDER]


def test_most_urgent_kind_first_then_oldest_first(client, world, mixed):
    clock, ids = mixed

    page = list_page(client, clock.headers(world.clinician))

    assert page["next_cursor"] is None
    items = page["items"]
    assert [item["id"] for item in items] == expected_ids(ids)
    assert [item["priority"] for item in items] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    assert all(item["priority"] == PRIORITY[item["kind"]] for item in items)
    for item in items:
        assert_utc(item["created_at"])
        assert item["status"] == "open"
        assert item["patient_id"] == world.patient.id
    minutes = {item["id"]: parse(item["created_at"]) for item in items}
    assert minutes[ids["si-1"]] == T0 + timedelta(minutes=4)
    assert minutes[ids["overdue-2"]] == T0 + timedelta(minutes=11)


@pytest.mark.parametrize("limit", [1, 2, 5, 11])
def test_pages_follow_one_another_in_the_same_order(client, world, mixed, limit):
    clock, ids = mixed
    headers = clock.headers(world.clinician)

    pages = []
    cursor = None
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = list_page(client, headers, **query)
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert all(len(items) == limit for items in pages[:-1])
    assert 1 <= len(pages[-1]) <= limit
    assert [item["id"] for items in pages for item in items] == expected_ids(ids)


def test_acknowledged_alerts_leave_the_open_list(client, world, mixed):
    clock, ids = mixed
    headers = clock.headers(world.clinician)
    for label in ("si-1", "vital-2", "overdue-1"):
        response = client.post(ack_url(ids[label]), headers=headers, json={"note": label})
        assert response.status_code == 200, response.get_json()

    still_open = list_all(client, headers)
    explicit_open = list_all(client, headers, status="open")
    acknowledged = list_all(client, headers, status="acknowledged")

    gone = {ids["si-1"], ids["vital-2"], ids["overdue-1"]}
    assert [a["id"] for a in still_open] == [i for i in expected_ids(ids) if i not in gone]
    assert explicit_open == still_open
    assert [a["id"] for a in acknowledged] == [ids["si-1"], ids["overdue-1"], ids["vital-2"]]
    assert all(a["status"] == "acknowledged" for a in acknowledged)
    assert [a["note"] for a in acknowledged] == ["si-1", "overdue-1", "vital-2"]


def test_default_and_empty_lists(client, world):
    assert list_page(client, world.clinician.headers) == {"items": [], "next_cursor": None}
    assert list_page(client, world.clinician.headers, status="acknowledged")["items"] == []


def test_a_clinician_sees_only_their_care_teams_alerts(client, world):
    mine = suicidal_ideation(client, world.patient)["alerts"][0]["id"]
    theirs = severe_score(client, world.other_patient)["alerts"][0]["id"]

    assert [a["id"] for a in list_all(client, world.clinician.headers)] == [mine]
    assert [a["id"] for a in list_all(client, world.other_clinician.headers)] == [theirs]
    assert list_all(client, world.lone_clinician.headers) == []


def test_acknowledged_alerts_of_other_teams_stay_hidden(client, world):
    theirs = severe_score(client, world.other_patient)["alerts"][0]["id"]
    response = client.post(ack_url(theirs), headers=world.other_clinician.headers, json={})
    assert response.status_code == 200, response.get_json()

    assert list_all(client, world.clinician.headers, status="acknowledged") == []
    assert list_all(client, world.lone_clinician.headers, status="acknowledged") == []


def test_joining_and_leaving_a_care_team_changes_what_is_listed(client, world):
    alert_id = suicidal_ideation(client, world.patient)["alerts"][0]["id"]
    team = f"/api/v1/patients/{world.patient.id}/care-team/{world.lone_clinician.id}"

    joined = client.put(team, headers=world.clinician.headers)
    assert joined.status_code in (200, 201, 204), joined.get_json()
    assert [a["id"] for a in list_all(client, world.lone_clinician.headers)] == [alert_id]

    left = client.delete(team, headers=world.clinician.headers)
    assert left.status_code in (200, 204), left.get_json()
    assert list_all(client, world.lone_clinician.headers) == []


@pytest.mark.parametrize("role", ["patient", "other_patient"])
def test_patients_may_not_list_alerts_not_even_their_own(client, world, role):
    suicidal_ideation(client, world.patient)

    response = client.get(ALERTS, headers=getattr(world, role).headers)
    filtered = client.get(
        ALERTS, headers=getattr(world, role).headers, query_string={"patient_id": world.patient.id}
    )

    assert_problem(response, 403)
    assert_problem(filtered, 403)


def test_listing_needs_a_token(client, world):
    assert_problem(client.get(ALERTS), 401)


@pytest.mark.parametrize("status", ["closed", "OPEN", "", "acknowledged,open"])
def test_an_unknown_status_filter_is_refused(client, world, status):
    response = client.get(ALERTS, headers=world.clinician.headers, query_string={"status": status})

    assert_problem(response, 422, "status")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "W10"}, "cursor"),  # base64 of "[]": valid JSON, wrong shape
    ],
)
def test_bad_paging_is_refused(client, world, query, field):
    response = client.get(ALERTS, headers=world.clinician.headers, query_string=query)

    assert_problem(response, 422, field)


def test_a_hundred_is_the_largest_page(client, world):
    for _ in range(3):
        suicidal_ideation(client, world.patient)

    page = list_page(client, world.clinician.headers, limit=100)

    assert len(page["items"]) == 3
    assert page["next_cursor"] is None
