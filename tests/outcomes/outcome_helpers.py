"""Helpers of the outcome tests (and the alert tests, which submit check-ins too): answer
vectors that score exactly a wanted total, check-ins and sessions through the API, and reads of
GET /patients/{id}/outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient

from tests.factories import Actor, sign_in
from tests.problems import parse

API = "/api/v1"
CHECKINS = f"{API}/checkins"
SESSIONS = f"{API}/sessions"
CODES = ("PHQ-9", "GAD-7", "PCL-5")
OUTCOME_KEYS = {
    "baseline",
    "baseline_recorded_at",
    "latest",
    "latest_recorded_at",
    "change",
    "response",
    "remission",
    "deterioration",
    "series",
}
# (number of scored items, highest answer) of each instrument, as published.
SHAPES = {"PHQ-9": (9, 3), "GAD-7": (7, 3), "PCL-5": (20, 4)}


def spread(total: int, items: int, top: int) -> list[int]:
    """`items` answers, each 0..`top`, that add up to exactly `total` (highest first)."""
    assert 0 <= total <= items * top, (total, items, top)
    answers = []
    left = total
    for _ in range(items):
        answer = min(top, left)
        answers.append(answer)
        left -= answer
    assert sum(answers) == total
    return answers


def phq9(total: int, item9: int = 0) -> list[int]:
    """PHQ-9 answers with this total and item 9 (self-harm thoughts) answered `item9`."""
    return [*spread(total - item9, 8, 3), item9]


def gad7(total: int) -> list[int]:
    return spread(total, 7, 3)


def pcl5(total: int) -> list[int]:
    return spread(total, 20, 4)


def answers_for(code: str, total: int) -> list[int]:
    """Answers of `code` that total `total` (PHQ-9 with item 9 at 0, so no self-harm alert)."""
    items, top = SHAPES[code]
    if code == "PHQ-9":
        return phq9(total)
    return spread(total, items, top)


def now() -> datetime:
    return datetime.now(UTC)


def days_ago(days: float, *, at: datetime | None = None) -> datetime:
    return (at or now()) - timedelta(days=days)


def checkin_body(recorded_at: datetime, **instruments: list[int]) -> dict[str, Any]:
    """A check-in body; instrument keyword names use underscores (PHQ_9=[...])."""
    body: dict[str, Any] = {"recorded_at": recorded_at.isoformat(), "mood": 5}
    if instruments:
        body["instruments"] = {code.replace("_", "-"): items for code, items in instruments.items()}
    return body


def submit(
    client: FlaskClient,
    patient: Actor,
    recorded_at: datetime,
    *,
    headers: dict[str, str] | None = None,
    **instruments: list[int],
) -> dict[str, Any]:
    """POST /checkins as `patient` (asserting 201); the answer. A check-in older than a late
    one may be is sent when it was recorded (a history of months is built day by day)."""
    body = checkin_body(recorded_at, **instruments)
    if headers is None and recorded_at < now() - timedelta(days=13):
        with time_machine.travel(recorded_at + timedelta(minutes=1), tick=False):
            sender = sign_in(client.application, patient.user)
            response = client.post(CHECKINS, headers=sender.headers, json=body)
    else:
        response = client.post(CHECKINS, headers=headers or patient.headers, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def submit_totals(
    client: FlaskClient, patient: Actor, recorded_at: datetime, **totals: int
) -> dict[str, Any]:
    """A check-in whose questionnaires score exactly `totals` (PHQ_9=12, GAD_7=5, ...)."""
    instruments = {
        code: answers_for(code.replace("_", "-"), total) for code, total in totals.items()
    }
    return submit(client, patient, recorded_at, **instruments)


def alert_kinds(submitted: dict[str, Any]) -> set[str]:
    return {alert["kind"] for alert in submitted["alerts"]}


def schedule_session(
    client: FlaskClient,
    clinician: Actor,
    patient: Actor,
    start: datetime,
    *,
    headers: dict[str, str] | None = None,
) -> str:
    """Schedule a two-hour video session through the API; its id. Without `headers` it is
    booked a day before its start (a session is never booked in the past), so a test may place
    sessions anywhere in a patient's history."""
    body = {
        "patient_id": patient.id,
        "scheduled_start": start.isoformat(),
        "duration_minutes": 120,
        "modality": "video",
        "treatment_monitor": {"name": "Sam", "phone": "+1 555 0100"},
    }
    if headers is not None:
        response = client.post(SESSIONS, headers=headers, json=body)
    else:
        with time_machine.travel(start - timedelta(days=1), tick=False):
            booker = sign_in(client.application, clinician.user)
            response = client.post(SESSIONS, headers=booker.headers, json=body)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def move_session(client: FlaskClient, clinician: Actor, session_id: str, action: str) -> None:
    """A lifecycle move (start, complete, cancel, no-show) that must succeed, made a minute
    after the session's scheduled start, when the clinic would make it."""
    read = client.get(f"{SESSIONS}/{session_id}", headers=clinician.headers)
    assert read.status_code == 200, read.get_json()
    when = parse(read.get_json()["scheduled_start"]) + timedelta(minutes=1)
    body = {"reason": "Patient asked to move it."} if action == "cancel" else {}
    with time_machine.travel(when, tick=False):
        mover = sign_in(client.application, clinician.user)
        response = client.post(
            f"{SESSIONS}/{session_id}/{action}", headers=mover.headers, json=body
        )
    assert response.status_code == 200, response.get_json()


def outcomes_url(patient_id: str) -> str:
    return f"{API}/patients/{patient_id}/outcomes"


def read_outcomes(client: FlaskClient, reader: Actor, patient: Actor) -> dict[str, Any]:
    """GET the patient's outcomes as `reader` (asserting 200 and the shape)."""
    response = client.get(outcomes_url(patient.id), headers=reader.headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == set(CODES), body
    for code in CODES:
        assert set(body[code]) == OUTCOME_KEYS, body[code]
    return body  # type: ignore[no-any-return]


def same_moment(value: str | None, expected: datetime) -> bool:
    """A UTC timestamp from a response is the instant `expected` (to the microsecond)."""
    assert value is not None
    assert value.endswith(("Z", "+00:00")), value
    return parse(value) == expected


def series_points(outcome: dict[str, Any]) -> list[tuple[datetime, int]]:
    return [(parse(point["recorded_at"]), point["total"]) for point in outcome["series"]]
