"""Small helpers shared by the check-in tests: URLs, request bodies, submitting and reading
check-ins through the API, a frozen clock, and direct counts of what the service stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from telehealth.alerts.models import SafetyAlert
from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.extensions import db
from telehealth.idempotency import IdempotencyRecord
from tests.factories import Actor, sign_in
from tests.problems import assert_problem, assert_utc, parse  # noqa: F401 - re-exported

API = "/api/v1"
CHECKINS = f"{API}/checkins"
SESSIONS = f"{API}/sessions"
IDEMPOTENCY_KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"

#: Where the check-in tests freeze the clock (the `clock` fixture).
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

#: A PHQ-9 with item 9 (thoughts of self-harm) answered 1 and a low total (3): it raises a
#: suicidal-ideation alert and nothing else.
PHQ9_ITEM9_ONE = [0, 1, 0, 1, 0, 0, 0, 0, 1]
#: A PHQ-9 with no item-9 answer and a mild total (6).
PHQ9_MILD = [1, 1, 1, 1, 1, 1, 0, 0, 0]
GAD7_MILD = [1, 1, 1, 1, 1, 0, 0]
PCL5_LOW = [1] * 20


def random_id() -> str:
    return str(uuid.uuid4())


def checkin_url(checkin_id: str) -> str:
    return f"{CHECKINS}/{checkin_id}"


def patient_checkins_url(patient_id: str) -> str:
    return f"{API}/patients/{patient_id}/checkins"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def rfc3339(moment: datetime) -> str:
    return moment.isoformat()


def checkin_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /checkins body; keyword arguments replace (or, with None, drop) fields."""
    body: dict[str, Any] = {
        "recorded_at": (datetime.now(UTC) - timedelta(minutes=10))
        .replace(microsecond=0)
        .isoformat(),
        "mood": 6,
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def with_key(actor: Actor, key: str) -> dict[str, str]:
    return {**actor.headers, IDEMPOTENCY_KEY: key}


def post_checkin(
    client: FlaskClient,
    actor: Actor,
    body: dict[str, Any] | None = None,
    *,
    key: str | None = None,
) -> TestResponse:
    """POST /checkins as `actor` (with an Idempotency-Key if given); the response, whatever."""
    headers = with_key(actor, key) if key is not None else actor.headers
    return client.post(CHECKINS, json=checkin_body() if body is None else body, headers=headers)


def submitted(
    client: FlaskClient,
    actor: Actor,
    body: dict[str, Any] | None = None,
    *,
    key: str | None = None,
) -> dict[str, Any]:
    """A check-in submitted through the API (asserting 201); its JSON."""
    response = post_checkin(client, actor, body, key=key)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def read_checkin(client: FlaskClient, actor: Actor, checkin_id: str) -> dict[str, Any]:
    response = client.get(checkin_url(checkin_id), headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def list_page(client: FlaskClient, actor: Actor, patient_id: str, **query: Any) -> dict[str, Any]:
    """One GET /patients/{id}/checkins page, asserting 200; its body."""
    response = client.get(
        patient_checkins_url(patient_id), headers=actor.headers, query_string=query
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def list_ids(client: FlaskClient, actor: Actor, patient_id: str, **query: Any) -> list[str]:
    """The ids of one page (limit 100) that must be the whole list."""
    body = list_page(client, actor, patient_id, limit=100, **query)
    assert body["next_cursor"] is None
    return [item["id"] for item in body["items"]]


def collect_all(
    client: FlaskClient, actor: Actor, patient_id: str, *, limit: int, **query: Any
) -> list[dict[str, Any]]:
    """Every item, following next_cursor page by page; asserts each page's size."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        params = {"limit": limit, **query}
        if cursor is not None:
            params["cursor"] = cursor
        body = list_page(client, actor, patient_id, **params)
        assert len(body["items"]) <= limit
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert len(body["items"]) == limit
    raise AssertionError("the cursor never ran out")


def schedule_session(client: FlaskClient, clinician: Actor, patient: Actor) -> str:
    """A video session of `patient` half an hour from now (its day is open: notes may be
    observed on it now), scheduled by `clinician`; its id."""
    start = (datetime.now(UTC) + timedelta(minutes=30)).replace(second=0, microsecond=0)
    response = client.post(
        SESSIONS,
        json={
            "patient_id": patient.id,
            "scheduled_start": start.isoformat(),
            "duration_minutes": 120,
            "modality": "video",
            "treatment_monitor": {"name": "Sam Sitter", "phone": "+1 555 0199"},
        },
        headers=clinician.headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]  # type: ignore[no-any-return]


def count(app: Flask, model: Any, **where: Any) -> int:
    """Rows of `model` matching `where` (column=value), read through a fresh session."""
    with app.app_context():
        statement = select(func.count()).select_from(model)
        for name, value in where.items():
            statement = statement.where(getattr(model, name) == value)
        return int(db.session.scalar(statement) or 0)


def checkin_rows(app: Flask, patient: Actor) -> int:
    return count(app, MoodCheckIn, patient_id=patient.user.id)


def score_rows(app: Flask, patient: Actor) -> int:
    return count(app, InstrumentScore, patient_id=patient.user.id)


def alert_rows(app: Flask, patient: Actor) -> int:
    return count(app, SafetyAlert, patient_id=patient.user.id)


def key_rows(app: Flask, actor: Actor) -> int:
    return count(app, IdempotencyRecord, user_id=actor.user.id)


def stored_checkin(app: Flask, checkin_id: str) -> MoodCheckIn:
    with app.app_context():
        checkin = db.session.get(MoodCheckIn, uuid.UUID(checkin_id))
        assert checkin is not None
        list(checkin.scores)
        db.session.expunge_all()
        return checkin


@contextmanager
def frozen_at(app: Flask, moment: datetime, *actors: Actor) -> Iterator[list[Actor]]:
    """Freeze the clock at `moment`; yields `actors` signed in again at that moment, so their
    access tokens are valid however far the clock moved."""
    with time_machine.travel(moment, tick=False):
        yield [sign_in(app, actor.user) for actor in actors]
