"""A treatment day walked end to end against a frozen clock, for each session-day rule: what the
clinic may do, and what is refused (with the status the contract gives) while nothing changes.
The first tests replay, one by one, the mistakes the service used to let through."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories import Actor, sign_in
from tests.sessions.helpers import SESSIONS, assert_problem, session_body, session_url, utc

#: The session of these tests: 13:00-15:00 UTC on 2026-12-01, booked the day before.
START = utc(2026, 12, 1, 13, 0)
BOOKED_AT = START - timedelta(days=1)
TAKEN = START + timedelta(minutes=2)


class Day:
    """The clinic's day on a frozen clock: `at` moves it, and every call is made by an actor
    signed in at the current moment."""

    def __init__(self, app: Flask, client: FlaskClient, world: Any, traveller: Any) -> None:
        self.app, self.client, self.world, self.traveller = app, client, world, traveller

    def at(self, moment: datetime) -> Day:
        self.traveller.move_to(moment)
        return self

    def actor(self, who: str) -> Actor:
        return sign_in(self.app, getattr(self.world, who).user)

    def post(self, url: str, body: dict[str, Any], who: str = "clinician") -> TestResponse:
        return self.client.post(url, json=body, headers=self.actor(who).headers)

    def get(self, url: str, who: str = "clinician") -> dict[str, Any]:
        response = self.client.get(url, headers=self.actor(who).headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def ok(self, response: TestResponse) -> dict[str, Any]:
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    # The steps of a session day, each asserting it worked.

    def book(self, start: datetime = START) -> str:
        body = session_body(self.world.patient.id, scheduled_start=start.isoformat())
        return str(self.ok(self.post(SESSIONS, body))["id"])

    def move(
        self, session_id: str, action: str, body: dict[str, Any] | None = None
    ) -> TestResponse:
        return self.post(session_url(session_id, action), body or {})

    def take(self, session_id: str, taken_at: datetime | None = None) -> TestResponse:
        body = {} if taken_at is None else {"taken_at": taken_at.isoformat()}
        return self.post(session_url(session_id, "medication-taken"), body, who="patient")

    def note(
        self, session_id: str, checkpoint: str | None, observed_at: datetime | None = None
    ) -> TestResponse:
        body: dict[str, Any] = {
            "observed_at": (observed_at or datetime.now(START.tzinfo)).isoformat(),
            "text": "Observed on the call.",
            "vitals": {"systolic": 128, "diastolic": 82, "heart_rate": 74},
        }
        if checkpoint is not None:
            body["checkpoint"] = checkpoint
        return self.post(f"{session_url(session_id)}/notes", body)

    def sign(self, note_id: str) -> None:
        self.ok(self.post(f"/api/v1/notes/{note_id}/sign", {}))

    def session(self, session_id: str) -> dict[str, Any]:
        return self.get(session_url(session_id))

    def timeline(self, session_id: str) -> dict[str, dict[str, Any]]:
        items = self.get(f"{session_url(session_id)}/timeline")["checkpoints"]
        return {item["name"]: item for item in items}


@pytest.fixture
def day(app: Flask, client: FlaskClient, world: Any) -> Iterator[Day]:
    with time_machine.travel(BOOKED_AT, tick=False) as traveller:
        yield Day(app, client, world, traveller)


@pytest.fixture
def booked(day: Day) -> str:
    return day.book()


@pytest.fixture
def medicated(day: Day, booked: str) -> str:
    """Started at 12:55, pre-session note at 12:58, medication at 13:02."""
    day.at(START - timedelta(minutes=5)).ok(day.move(booked, "start"))
    day.at(START - timedelta(minutes=2)).ok(day.note(booked, "pre_session"))
    day.at(TAKEN).ok(day.take(booked))
    return booked


# --- the mistakes that used to go through ----------------------------------------------------


def test_medication_on_a_session_still_scheduled_for_tomorrow_is_409(day, booked):
    before = day.at(START - timedelta(days=1)).session(booked)

    problem = assert_problem(day.take(booked), 409)

    assert problem["session_status"] == "scheduled"
    assert day.session(booked) == before


@pytest.mark.parametrize("action", ["cancel", "no-show"])
def test_after_the_medication_the_session_cannot_be_cancelled_or_marked_no_show(
    day, medicated, action
):
    before = day.at(TAKEN + timedelta(minutes=20)).session(medicated)
    body = {"reason": "Patient asked to stop."} if action == "cancel" else {}

    problem = assert_problem(day.move(medicated, action, body), 409)

    assert "monitoring" in problem["detail"]
    assert day.session(medicated) == before
    # The patient is still watched: +40 min falls overdue when nobody records it.
    day.at(TAKEN + timedelta(minutes=40 + 15, seconds=1))
    assert day.timeline(medicated)["plus_40_min"]["status"] == "overdue"


@pytest.mark.parametrize(
    ("checkpoint", "after", "opens_after"),
    [
        ("plus_40_min", timedelta(seconds=5), timedelta(minutes=30)),
        ("end_of_session", timedelta(seconds=10), timedelta(minutes=110)),
        ("plus_40_min", timedelta(minutes=29, seconds=59), timedelta(minutes=30)),
        ("end_of_session", timedelta(minutes=109, seconds=59), timedelta(minutes=110)),
    ],
)
def test_a_checkpoint_note_observed_before_its_window_is_422_and_not_recorded(
    day, medicated, checkpoint, after, opens_after
):
    day.at(TAKEN + after)

    problem = assert_problem(day.note(medicated, checkpoint), 422, "observed_at")

    assert (TAKEN + opens_after).strftime("%H:%M:%S") in problem["errors"]["observed_at"]
    assert day.timeline(medicated)[checkpoint]["note_id"] is None


@pytest.mark.parametrize(
    ("checkpoint", "after"),
    [("plus_40_min", timedelta(minutes=30)), ("end_of_session", timedelta(minutes=110))],
)
def test_a_checkpoint_note_observed_when_its_window_opens_records_it(
    day, medicated, checkpoint, after
):
    day.at(TAKEN + after)

    note = day.ok(day.note(medicated, checkpoint))

    assert day.timeline(medicated)[checkpoint] | {"due_at": None} == {
        "name": checkpoint,
        "due_at": None,
        "status": "done",
        "note_id": note["id"],
        "observed_at": note["observed_at"],
    }


def test_complete_two_hours_early_with_unsigned_notes_is_409_listing_what_is_missing(
    day, medicated
):
    day.at(TAKEN + timedelta(minutes=40))
    plus_40 = day.ok(day.note(medicated, "plus_40_min"))
    before = day.session(medicated)
    pre_session = day.timeline(medicated)["pre_session"]["note_id"]

    problem = assert_problem(day.move(medicated, "complete"), 409)

    assert {
        (item["kind"], item.get("checkpoint"), item.get("note_id")) for item in problem["missing"]
    } == {
        ("checkpoint", "end_of_session", None),
        ("signature", None, pre_session),
        ("signature", None, plus_40["id"]),
    }
    assert all(item["detail"] for item in problem["missing"])
    assert day.session(medicated) == before


def test_a_session_scheduled_a_year_in_the_past_is_422(day):
    day.at(START)
    year_ago = (START - timedelta(days=365)).isoformat()
    body = session_body(day.world.patient.id, scheduled_start=year_ago)

    assert_problem(day.post(SESSIONS, body), 422, "scheduled_start")
    assert day.get(SESSIONS)["items"] == []


def test_a_check_in_dated_1970_is_422_and_the_baseline_stays(day):
    day.at(START)
    phq9_15 = [2, 2, 2, 2, 2, 2, 2, 1, 0]
    first = {"recorded_at": (START - timedelta(days=2)).isoformat(), "mood": 4}
    day.ok(day.post("/api/v1/checkins", first | {"instruments": {"PHQ-9": phq9_15}}, "patient"))
    ancient = {"recorded_at": "1970-01-01T00:00:00Z", "mood": 9}

    response = day.post(
        "/api/v1/checkins", ancient | {"instruments": {"PHQ-9": [0] * 9}}, "patient"
    )

    assert_problem(response, 422, "recorded_at")
    outcome = day.get(f"/api/v1/patients/{day.world.patient.id}/outcomes", "patient")["PHQ-9"]
    assert (outcome["baseline"], outcome["latest"]) == (15, 15)


# --- the day as it should go ------------------------------------------------------------------


def test_a_whole_day_kept_by_the_rules_completes_without_a_reason(day, medicated):
    day.at(TAKEN + timedelta(minutes=41))
    plus_40 = day.ok(day.note(medicated, "plus_40_min"))
    day.at(TAKEN + timedelta(minutes=121))
    end = day.ok(day.note(medicated, "end_of_session"))
    for note_id in (day.timeline(medicated)["pre_session"]["note_id"], plus_40["id"], end["id"]):
        day.sign(note_id)

    completed = day.ok(day.move(medicated, "complete"))

    assert completed["status"] == "completed"
    assert completed["completion_reason"] is None
    assert [item["status"] for item in day.timeline(medicated).values()] == ["done"] * 3


def test_a_clinician_who_must_end_early_completes_with_a_reason_that_stays(day, medicated):
    day.at(TAKEN + timedelta(minutes=50))
    reason = "Patient taken to emergency care by ambulance; monitor went along."

    completed = day.ok(day.move(medicated, "complete", {"reason": reason}))

    assert completed["completion_reason"] == reason
    assert completed["transitions"][-1]["reason"] == reason
    assert day.session(medicated)["completion_reason"] == reason


def test_a_session_without_medication_completes_once_its_notes_are_signed(day, booked):
    day.at(START - timedelta(minutes=5)).ok(day.move(booked, "start"))
    note = day.at(START).ok(day.note(booked, None))
    refused = assert_problem(day.move(booked, "complete"), 409)
    assert [item["kind"] for item in refused["missing"]] == ["signature"]

    day.sign(note["id"])

    assert day.ok(day.move(booked, "complete"))["completion_reason"] is None


def test_a_late_checkpoint_is_recorded_and_marked_late(day, medicated):
    day.at(TAKEN + timedelta(minutes=40 + 15, seconds=1))

    note = day.ok(day.note(medicated, "plus_40_min"))

    item = day.timeline(medicated)["plus_40_min"]
    assert (item["status"], item["note_id"]) == ("late", note["id"])


# --- the order of the day ---------------------------------------------------------------------


def test_a_pre_session_note_after_the_medication_is_422(day, medicated):
    day.at(TAKEN + timedelta(minutes=1))

    assert_problem(
        day.note(medicated, "pre_session", TAKEN + timedelta(seconds=30)), 422, "observed_at"
    )


def test_the_medication_cannot_be_dated_before_the_pre_session_note(day, booked):
    day.at(START - timedelta(minutes=5)).ok(day.move(booked, "start"))
    day.at(START).ok(day.note(booked, "pre_session"))

    response = day.take(booked, START - timedelta(minutes=1))

    assert_problem(response, 422, "taken_at")
    assert day.session(booked)["medication_taken_at"] is None


def test_plus_40_and_end_of_session_need_the_medication_first(day, booked):
    day.at(START).ok(day.move(booked, "start"))

    for checkpoint in ("plus_40_min", "end_of_session"):
        assert_problem(day.note(booked, checkpoint), 422, "checkpoint")


def test_no_note_is_observed_before_the_sessions_day_opens(day, booked):
    day.at(START)

    response = day.note(booked, None, START - timedelta(minutes=61))

    assert_problem(response, 422, "observed_at")


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (START - timedelta(minutes=61), False),
        (START - timedelta(minutes=60), True),
        (START + timedelta(minutes=119), True),
        (START + timedelta(minutes=120), False),
    ],
)
def test_a_session_starts_from_an_hour_before_until_its_end(day, booked, moment, allowed):
    response = day.at(moment).move(booked, "start")

    if allowed:
        assert day.ok(response)["status"] == "in_progress"
    else:
        assert_problem(response, 409)
        assert day.session(booked)["status"] == "scheduled"


def test_medication_taken_before_the_scheduled_start_brings_pre_session_forward(day, booked):
    early = START - timedelta(minutes=30)
    day.at(early - timedelta(minutes=5)).ok(day.move(booked, "start"))
    day.at(early).ok(day.take(booked))

    timeline = day.timeline(booked)

    due = {name: datetime.fromisoformat(item["due_at"]) for name, item in timeline.items()}
    assert due["pre_session"] == early
    assert due["pre_session"] < due["plus_40_min"] < due["end_of_session"]


# --- time bounds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "allowed"),
    [
        (-timedelta(minutes=15, seconds=1), False),
        (-timedelta(minutes=15), True),
        (timedelta(days=366), True),
        (timedelta(days=366, seconds=1), False),
    ],
)
def test_a_session_is_booked_from_fifteen_minutes_ago_to_a_year_ahead(day, offset, allowed):
    day.at(START)
    body = session_body(day.world.patient.id, scheduled_start=(START + offset).isoformat())

    response = day.post(SESSIONS, body)

    if allowed:
        day.ok(response)
    else:
        assert_problem(response, 422, "scheduled_start")


def test_rescheduling_into_the_past_is_422(day, booked):
    day.at(START - timedelta(hours=1))
    tag = day.client.get(session_url(booked), headers=day.actor("clinician").headers).headers[
        "ETag"
    ]

    response = day.client.patch(
        session_url(booked),
        json={"scheduled_start": (START - timedelta(hours=2)).isoformat()},
        headers={**day.actor("clinician").headers, "If-Match": tag},
    )

    assert_problem(response, 422, "scheduled_start")
    assert day.session(booked)["scheduled_start"].startswith("2026-12-01T13:00:00")


@pytest.mark.parametrize(
    ("age", "allowed"),
    [(timedelta(days=14), True), (timedelta(days=14, seconds=1), False)],
)
def test_a_check_in_may_be_up_to_fourteen_days_late(day, age, allowed):
    day.at(START)
    body = {"recorded_at": (START - age).isoformat(), "mood": 5}

    response = day.post("/api/v1/checkins", body, "patient")

    if allowed:
        day.ok(response)
    else:
        assert "14 days" in assert_problem(response, 422, "recorded_at")["errors"]["recorded_at"]


def test_the_check_in_age_limit_is_a_setting(day, monkeypatch):
    monkeypatch.setitem(day.app.config, "CHECKIN_MAX_AGE_DAYS", 2)
    day.at(START)
    body = {"recorded_at": (START - timedelta(days=3)).isoformat(), "mood": 5}

    assert_problem(day.post("/api/v1/checkins", body, "patient"), 422, "recorded_at")


# --- who may complete -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("patient", 403), ("admin", 403), ("other_clinician", 404)]
)
def test_only_the_care_team_completes_with_a_reason(day, medicated, who, status):
    before = day.at(TAKEN + timedelta(minutes=10)).session(medicated)

    response = day.post(session_url(medicated, "complete"), {"reason": "Ended early."}, who)

    assert_problem(response, status)
    assert day.session(medicated) == before
