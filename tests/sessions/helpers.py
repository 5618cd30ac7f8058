"""Small helpers shared by the session tests: URLs, request bodies, scheduling and moving
sessions through the API, problem checks and direct reads of what the service stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from telehealth.extensions import db
from telehealth.sessions.models import TreatmentSession
from tests.factories import Actor, sign_in
from tests.problems import (  # noqa: F401 - re-exported
    INTERNALS,
    PROBLEM_JSON,
    PROBLEM_KEYS,
    assert_problem,
    assert_utc,
    names_field,
    parse,
)

API = "/api/v1"
SESSIONS = f"{API}/sessions"
CALENDAR = f"{API}/calendar.ics"

START = "2026-12-01T14:00:00+01:00"  # 13:00 UTC, 08:00 in New York (EST, -05:00)
MONITOR = {"name": "Sam Sitter", "phone": "+1 555 0199"}

# The statuses a session can be in, and the API moves that lead there from "scheduled".
PATHS_TO: dict[str, list[str]] = {
    "scheduled": [],
    "in_progress": ["start"],
    "completed": ["start", "complete"],
    "cancelled": ["cancel"],
    "no_show": ["no-show"],
}
ACTIONS = ["start", "complete", "cancel", "no-show"]
CANCEL_REASON = "Patient asked to move the appointment."


def random_id() -> str:
    return str(uuid.uuid4())


def session_url(session_id: str, action: str | None = None) -> str:
    return f"{SESSIONS}/{session_id}" + (f"/{action}" if action else "")


def session_body(patient_id: str, /, **overrides: Any) -> dict[str, Any]:
    """A valid POST /sessions body; keyword arguments replace (or, with None, drop) fields."""
    body: dict[str, Any] = {
        "patient_id": patient_id,
        "scheduled_start": START,
        "duration_minutes": 120,
        "modality": "video",
        "treatment_monitor": dict(MONITOR),
        "notes": "Second session; patient prefers the afternoon.",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def schedule(
    client: FlaskClient,
    actor: Actor,
    patient_id: str,
    start: str = START,
    duration: int = 120,
    **overrides: Any,
) -> TestResponse:
    """POST /sessions as `actor`; the response, whatever it is."""
    body = session_body(patient_id, scheduled_start=start, duration_minutes=duration, **overrides)
    return client.post(SESSIONS, json=body, headers=actor.headers)


def scheduled(
    client: FlaskClient,
    actor: Actor,
    patient_id: str,
    start: str = START,
    duration: int = 120,
    **overrides: Any,
) -> dict[str, Any]:
    """A session scheduled through the API (asserting it worked); its JSON."""
    response = schedule(client, actor, patient_id, start, duration, **overrides)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def action_body(action: str) -> dict[str, Any]:
    """The smallest valid body of a lifecycle move."""
    return {"reason": CANCEL_REASON} if action == "cancel" else {}


def act(
    client: FlaskClient,
    actor: Actor,
    session_id: str,
    action: str,
    body: dict[str, Any] | None = None,
) -> TestResponse:
    """POST a lifecycle move (start, complete, cancel, no-show) as `actor`."""
    return client.post(
        session_url(session_id, action),
        json=action_body(action) if body is None else body,
        headers=actor.headers,
    )


def bring_to(client: FlaskClient, actor: Actor, session_id: str, status: str) -> dict[str, Any]:
    """Move a scheduled session to `status` through the API; its JSON afterwards."""
    current = read(client, actor, session_id)
    for action in PATHS_TO[status]:
        response = act(client, actor, session_id, action)
        assert response.status_code == 200, response.get_json()
        current = response.get_json()
    assert current["status"] == status
    return current


def read(client: FlaskClient, actor: Actor, session_id: str) -> dict[str, Any]:
    response = client.get(session_url(session_id), headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def etag(client: FlaskClient, actor: Actor, session_id: str) -> str:
    response = client.get(session_url(session_id), headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.headers["ETag"]


def patch(
    client: FlaskClient,
    actor: Actor,
    session_id: str,
    changes: dict[str, Any],
    if_match: str | None = None,
) -> TestResponse:
    headers = dict(actor.headers)
    if if_match is not None:
        headers["If-Match"] = if_match
    return client.patch(session_url(session_id), json=changes, headers=headers)


def list_items(client: FlaskClient, actor: Actor, **query: Any) -> list[dict[str, Any]]:
    """One GET /sessions page (limit 100) with `query`, asserting 200; its items."""
    response = client.get(SESSIONS, headers=actor.headers, query_string={"limit": 100, **query})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["next_cursor"] is None
    return body["items"]  # type: ignore[no-any-return]


def count_sessions(app: Flask) -> int:
    with app.app_context():
        return db.session.query(TreatmentSession).count()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@contextmanager
def frozen_at(
    app: Flask, moment: datetime, *actors: Actor, tick: bool = False
) -> Iterator[list[Actor]]:
    """Freeze the clock at `moment` (or, with `tick`, start it there); yields `actors` signed
    in again at that moment, so their access tokens are valid however far the clock moved."""
    with time_machine.travel(moment, tick=tick):
        yield [sign_in(app, actor.user) for actor in actors]
