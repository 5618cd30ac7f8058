"""POST /checkins: what a patient submits is stored as sent (times in UTC), scored on the
server, refused for every other role, and refused field by field when it is wrong."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from telehealth.alerts.models import SafetyAlert
from telehealth.extensions import db
from tests.checkins.checkin_helpers import (
    CHECKINS,
    GAD7_MILD,
    NOW,
    PCL5_LOW,
    PHQ9_ITEM9_ONE,
    PHQ9_MILD,
    alert_rows,
    assert_problem,
    assert_utc,
    checkin_body,
    checkin_rows,
    count,
    parse,
    post_checkin,
    random_id,
    read_checkin,
    schedule_session,
    score_rows,
    stored_checkin,
    submitted,
)

pytestmark = pytest.mark.usefixtures("clock")

#: 06:30 in New York (EST, -05:00) on the frozen day: 11:30 UTC, half an hour before NOW.
RECORDED_LOCAL = "2026-12-01T06:30:00-05:00"
RECORDED_UTC = NOW - timedelta(minutes=30)
ANSWER_FIELDS = {
    "id",
    "patient_id",
    "session_id",
    "recorded_at",
    "received_at",
    "updated_at",
    "mood",
    "anxiety",
    "sleep_hours",
    "note",
    "context",
    "scores",
}


def full_body(**overrides: Any) -> dict[str, Any]:
    return checkin_body(
        recorded_at=RECORDED_LOCAL,
        mood=4,
        anxiety=7,
        sleep_hours=5.5,
        note="  Slept badly, worried about work.  ",
        context="post_session",
        instruments={"PHQ-9": PHQ9_MILD, "GAD-7": GAD7_MILD, "PCL-5": PCL5_LOW},
        **overrides,
    )


# --- the happy path -------------------------------------------------------------------------


def test_a_patient_submits_a_check_in_and_gets_it_back_scored(app, client, world):
    response = post_checkin(client, world.patient, full_body())

    assert response.status_code == 201, response.get_json()
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == ANSWER_FIELDS | {"alerts"}
    assert uuid.UUID(body["id"])
    assert body["patient_id"] == world.patient.id
    assert body["session_id"] is None
    for name in ("recorded_at", "received_at", "updated_at"):
        assert_utc(body[name])
    assert parse(body["recorded_at"]) == RECORDED_UTC
    assert parse(body["received_at"]) == NOW
    assert body["mood"] == 4
    assert body["anxiety"] == 7
    assert body["sleep_hours"] == 5.5
    assert body["note"] == "Slept badly, worried about work."
    assert body["context"] == "post_session"
    assert body["scores"] == {
        "PHQ-9": {"total": 6, "band": "mild"},
        "GAD-7": {"total": 5, "band": "mild"},
        "PCL-5": {"total": 20, "probable_ptsd": False, "provisional_ptsd": False},
    }
    assert body["alerts"] == []
    assert "crisis_message" not in body
    assert alert_rows(app, world.patient) == 0


def test_what_is_stored_is_what_was_answered(app, client, world):
    body = submitted(client, world.patient, full_body())

    stored = stored_checkin(app, body["id"])
    assert str(stored.patient_id) == world.patient.id
    assert stored.recorded_at == RECORDED_UTC
    assert stored.received_at == NOW
    assert (stored.mood, stored.anxiety, stored.sleep_hours) == (4, 7, 5.5)
    assert stored.note == "Slept badly, worried about work."
    assert stored.context.value == "post_session"
    assert {s.instrument: (s.answers, s.total) for s in stored.scores} == {
        "PHQ-9": (PHQ9_MILD, 6),
        "GAD-7": (GAD7_MILD, 5),
        "PCL-5": (PCL5_LOW, 20),
    }
    assert all(s.recorded_at == RECORDED_UTC for s in stored.scores)
    assert checkin_rows(app, world.patient) == 1
    assert score_rows(app, world.patient) == 3

    again = read_checkin(client, world.patient, body["id"])
    assert again == {name: body[name] for name in ANSWER_FIELDS}


def test_the_smallest_check_in_is_a_mood_and_a_time(app, client, world):
    body = submitted(client, world.patient, {"recorded_at": RECORDED_LOCAL, "mood": 0})

    assert body["mood"] == 0
    assert body["context"] == "daily"
    assert body["anxiety"] is None
    assert body["sleep_hours"] is None
    assert body["note"] is None
    assert body["scores"] == {}
    assert body["alerts"] == []
    assert checkin_rows(app, world.patient) == 1


def test_several_check_ins_a_day_are_allowed(app, client, world):
    first = submitted(client, world.patient)
    second = submitted(client, world.patient)

    assert first["id"] != second["id"]
    assert checkin_rows(app, world.patient) == 2


@pytest.mark.parametrize(
    "field, value",
    [
        ("mood", 0),
        ("mood", 10),
        ("anxiety", 0),
        ("anxiety", 10),
        ("anxiety", None),
        ("sleep_hours", 0),
        ("sleep_hours", 24),
        ("sleep_hours", 7.5),
        ("note", "x" * 2000),
        ("note", ""),
        ("context", "daily"),
        ("context", "pre_session"),
        ("context", "post_session"),
    ],
)
def test_values_at_the_edges_of_their_range_are_accepted(client, world, field, value):
    body = checkin_body()
    body[field] = value

    answer = submitted(client, world.patient, body)

    assert answer[field] == value


def test_a_check_in_can_name_the_patients_own_session(app, client, world, session_id):
    body = submitted(
        client, world.patient, checkin_body(session_id=session_id, context="pre_session")
    )

    assert body["session_id"] == session_id
    assert str(stored_checkin(app, body["id"]).session_id) == session_id


# --- alerts and crisis text -------------------------------------------------------------------


def test_phq9_item_9_above_zero_raises_one_alert_and_answers_with_crisis_text(app, client, world):
    body = submitted(client, world.patient, checkin_body(instruments={"PHQ-9": PHQ9_ITEM9_ONE}))

    assert body["scores"]["PHQ-9"] == {"total": 3, "band": "minimal"}
    assert [alert["kind"] for alert in body["alerts"]] == ["suicidal_ideation"]
    assert uuid.UUID(body["alerts"][0]["id"])
    assert "988" in body["crisis_message"]
    assert "911" in body["crisis_message"]
    assert "care team" in body["crisis_message"].lower()
    with app.app_context():
        alert = db.session.get(SafetyAlert, uuid.UUID(body["alerts"][0]["id"]))
        assert alert is not None
        assert str(alert.patient_id) == world.patient.id
        assert alert.kind.value == "suicidal_ideation"
        assert str(alert.source_id) == body["id"]
    assert alert_rows(app, world.patient) == 1


def test_a_severe_score_without_item_9_raises_no_crisis_text(app, client, world):
    severe = [3, 3, 3, 3, 3, 3, 2, 0, 0]  # total 20, item 9 unanswered (0)

    body = submitted(client, world.patient, checkin_body(instruments={"PHQ-9": severe}))

    assert body["scores"]["PHQ-9"] == {"total": 20, "band": "severe"}
    assert [alert["kind"] for alert in body["alerts"]] == ["severe_score"]
    assert "crisis_message" not in body
    assert alert_rows(app, world.patient) == 1


def test_the_read_back_check_in_carries_no_crisis_text(client, world):
    body = submitted(client, world.patient, checkin_body(instruments={"PHQ-9": PHQ9_ITEM9_ONE}))

    again = read_checkin(client, world.clinician, body["id"])

    assert "crisis_message" not in again
    assert "alerts" not in again
    assert again["scores"] == body["scores"]


# --- who may submit ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["clinician", "other_clinician", "lone_clinician", "admin"])
def test_no_other_role_may_submit_a_check_in(app, client, world, role):
    response = post_checkin(client, getattr(world, role), checkin_body())

    assert_problem(response, 403)
    assert count(app, SafetyAlert) == 0
    assert checkin_rows(app, world.patient) == 0


def test_submitting_needs_a_token(app, client, world):
    response = client.post(CHECKINS, json=checkin_body())

    assert_problem(response, 401)
    assert checkin_rows(app, world.patient) == 0


def test_a_patient_cannot_submit_for_another_patient(app, client, world):
    body = checkin_body(patient_id=world.other_patient.id)

    response = post_checkin(client, world.patient, body)

    assert_problem(response, 422, "patient_id")
    assert checkin_rows(app, world.patient) == 0
    assert checkin_rows(app, world.other_patient) == 0


def test_another_patients_session_is_refused_like_a_missing_one(app, client, world):
    foreign = schedule_session(client, world.other_clinician, world.other_patient)

    theirs = post_checkin(client, world.patient, checkin_body(session_id=foreign))
    missing = post_checkin(client, world.patient, checkin_body(session_id=random_id()))

    first = assert_problem(theirs, 422, "session_id")
    second = assert_problem(missing, 422, "session_id")
    assert first == second
    assert checkin_rows(app, world.patient) == 0


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"mood": 11}, "mood"),
        ({"mood": -1}, "mood"),
        ({"mood": 5.5}, "mood"),
        ({"mood": "5"}, "mood"),
        ({"mood": True}, "mood"),
        ({"mood": None}, "mood"),
        ({"anxiety": 11}, "anxiety"),
        ({"anxiety": -1}, "anxiety"),
        ({"anxiety": 2.5}, "anxiety"),
        ({"sleep_hours": 25}, "sleep_hours"),
        ({"sleep_hours": 24.5}, "sleep_hours"),
        ({"sleep_hours": -0.5}, "sleep_hours"),
        ({"note": "x" * 2001}, "note"),
        ({"note": "nul \x00 byte"}, "note"),
        ({"context": "weekly"}, "context"),
        ({"context": "DAILY"}, "context"),
        ({"session_id": "not-a-uuid"}, "session_id"),
        ({"dose": "25 mg"}, "dose"),
        ({"total": 12}, "total"),
        ({"received_at": "2026-12-01T11:00:00Z"}, "received_at"),
        ({"recorded_at": "2026-12-01T11:00:00"}, "recorded_at"),
        ({"recorded_at": "yesterday"}, "recorded_at"),
        ({"recorded_at": 1764583200}, "recorded_at"),
        ({"instruments": {"BDI-II": [0] * 21}}, "instruments"),
        ({"instruments": {"PHQ-9": [0] * 8}}, "instruments"),
        ({"instruments": {"PHQ-9": [0, 0, 0, 4, 0, 0, 0, 0, 0]}}, "instruments"),
        ({"instruments": {"GAD-7": [0, 0, 0, 0, 0, 0, -1]}}, "instruments"),
        ({"instruments": {"GAD-7": ["1", 0, 0, 0, 0, 0, 0]}}, "instruments"),
        ({"instruments": {"PCL-5": [5] + [0] * 19}}, "instruments"),
        ({"instruments": {"PCL-5": [0] * 19}}, "instruments"),
    ],
    ids=lambda value: repr(value)[:40] if isinstance(value, dict) else value,
)
def test_bad_input_is_refused_naming_the_field(app, client, world, overrides, field):
    body = checkin_body()
    body.update(overrides)

    response = post_checkin(client, world.patient, body)

    assert_problem(response, 422, field)
    assert checkin_rows(app, world.patient) == 0
    assert score_rows(app, world.patient) == 0


@pytest.mark.parametrize("field", ["mood", "recorded_at"])
def test_a_missing_required_field_is_named(app, client, world, field):
    body = checkin_body()
    del body[field]

    response = post_checkin(client, world.patient, body)

    assert_problem(response, 422, field)
    assert checkin_rows(app, world.patient) == 0


def test_a_body_that_is_not_an_object_is_refused(app, client, world):
    response = client.post(CHECKINS, json=[checkin_body()], headers=world.patient.headers)

    assert_problem(response, 422)
    assert checkin_rows(app, world.patient) == 0


# --- when it was recorded ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "recorded_at",
    [
        (NOW + timedelta(minutes=5)).isoformat(),
        (NOW + timedelta(minutes=5)).isoformat().replace("+00:00", "Z"),
        "2026-12-01T21:05:00+09:00",  # the same instant, written in Tokyo time
    ],
)
def test_a_phone_clock_up_to_five_minutes_ahead_is_accepted(client, world, recorded_at):
    body = submitted(client, world.patient, checkin_body(recorded_at=recorded_at))

    assert parse(body["recorded_at"]) == NOW + timedelta(minutes=5)
    assert parse(body["received_at"]) == NOW


@pytest.mark.parametrize(
    "recorded_at",
    [
        (NOW + timedelta(minutes=5, seconds=1)).isoformat(),
        "2026-12-01T07:05:01-05:00",  # the same instant, written in New York time
        (NOW + timedelta(days=1)).isoformat(),
    ],
)
def test_a_check_in_more_than_five_minutes_in_the_future_is_refused(
    app, client, world, recorded_at
):
    response = post_checkin(client, world.patient, checkin_body(recorded_at=recorded_at))

    assert_problem(response, 422, "recorded_at")
    assert checkin_rows(app, world.patient) == 0


def test_the_future_boundary_moves_with_the_server_clock(app, client, world, clock):
    """Not a fixed date: the same recorded_at is refused now and accepted a minute later."""
    recorded_at = (NOW + timedelta(minutes=5, seconds=30)).isoformat()

    refused = post_checkin(client, world.patient, checkin_body(recorded_at=recorded_at))
    clock.shift(timedelta(minutes=1))
    accepted = post_checkin(client, world.patient, checkin_body(recorded_at=recorded_at))

    assert_problem(refused, 422, "recorded_at")
    assert accepted.status_code == 201, accepted.get_json()
    assert parse(accepted.get_json()["received_at"]) == NOW + timedelta(minutes=1)
    assert checkin_rows(app, world.patient) == 1


def test_a_late_offline_check_in_keeps_when_it_was_recorded(app, client, world):
    three_days_ago = NOW - timedelta(days=3, hours=2, minutes=17)
    sent_as = three_days_ago.astimezone().isoformat()  # in whatever offset the phone has

    body = submitted(client, world.patient, checkin_body(recorded_at=sent_as, mood=3))

    assert_utc(body["recorded_at"])
    assert parse(body["recorded_at"]) == three_days_ago
    assert parse(body["received_at"]) == NOW
    stored = stored_checkin(app, body["id"])
    assert stored.recorded_at == three_days_ago
    assert stored.received_at == NOW
    again = read_checkin(client, world.patient, body["id"])
    assert parse(again["recorded_at"]) == three_days_ago
    assert parse(again["received_at"]) == NOW


@pytest.mark.parametrize("sent", [7.25, 7.15, 6.05, 23.96, 0.04, 8.333])
def test_sleep_hours_answered_are_the_sleep_hours_stored(app, client, world, sent):
    """Sleep is kept to a tenth of an hour; the 201, the stored row and a later read agree on
    the value on every backend (PostgreSQL rounds a numeric(3, 1) column, SQLite does not)."""
    body = submitted(client, world.patient, checkin_body(sleep_hours=sent))

    stored = stored_checkin(app, body["id"]).sleep_hours
    read = read_checkin(client, world.patient, body["id"])["sleep_hours"]
    assert body["sleep_hours"] == stored == read
    assert abs(read - sent) <= 0.05 + 1e-9
    assert round(read * 10) == read * 10
