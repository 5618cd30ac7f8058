"""Helpers of the record-rights tests: URLs, records to read (a session, a note, a check-in and
its alert), following cursors, reading the stored audit trail, freezing the clock, and
switching off the append-only triggers inside a test's rolled-back transaction to tamper."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from telehealth.audit.models import AuditEvent
from telehealth.extensions import db
from tests.factories import Actor, sign_in
from tests.webhooks.helpers import make_delivery, make_webhook

API = "/api/v1"
AUDIT = f"{API}/audit"
ENTRY_KEYS = {"id", "occurred_at", "actor", "action", "resource_type", "resource_id", "outcome"}
ACTOR_KEYS = {"id", "name", "role"}
AUDIT_KEYS = ENTRY_KEYS | {
    "patient_id",
    "status_code",
    "client_address",
    "request_id",
    "sequence",
    "hash",
}
MONITOR = {"name": "Sam Sitter", "phone": "+1 555 0100"}
# GAD-7 answered 3 on every item: 21, severe, which raises a severe_score alert.
SEVERE_GAD7 = [3] * 7


def random_id() -> str:
    return str(uuid.uuid4())


def access_log_url(patient_id: str) -> str:
    return f"{API}/patients/{patient_id}/access-log"


def patient_url(patient_id: str) -> str:
    return f"{API}/patients/{patient_id}"


def rfc3339(moment: datetime) -> str:
    return moment.isoformat()


def parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


# --- records ----------------------------------------------------------------------------------


@dataclass
class Records:
    """One of each kind of record of world.patient, made through the API."""

    session_id: str
    note_id: str
    checkin_id: str
    alert_id: str
    #: A webhook endpoint (pointing at a loopback port nobody listens on) and a delivery of it.
    webhook_id: str = ""
    delivery_id: str = ""


def schedule_session(
    client: FlaskClient, clinician: Actor, patient: Actor, *, minutes_ahead: int = 30
) -> str:
    """A session starting soon: its day is open, so notes may be observed on it now."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes_ahead)
    response = client.post(
        f"{API}/sessions",
        headers=clinician.headers,
        json={
            "patient_id": patient.id,
            "scheduled_start": rfc3339(start),
            "duration_minutes": 120,
            "modality": "video",
            "treatment_monitor": MONITOR,
        },
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def add_note(client: FlaskClient, clinician: Actor, session_id: str) -> str:
    response = client.post(
        f"{API}/sessions/{session_id}/notes",
        headers=clinician.headers,
        json={
            "observed_at": rfc3339(datetime.now(UTC) - timedelta(minutes=1)),
            "text": "Calm, talking in full sentences.",
        },
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def submit_checkin(
    client: FlaskClient, patient: Actor, *, instruments: dict[str, list[int]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "recorded_at": rfc3339(datetime.now(UTC) - timedelta(minutes=1)),
        "mood": 4,
    }
    if instruments:
        body["instruments"] = instruments
    response = client.post(f"{API}/checkins", headers=patient.headers, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def make_records(client: FlaskClient, clinician: Actor, patient: Actor) -> Records:
    """A session (scheduled by `clinician`), a note on it, and a check-in of `patient` severe
    enough to raise an alert; and a webhook with a delivery (the admins' routes)."""
    session_id = schedule_session(client, clinician, patient)
    note_id = add_note(client, clinician, session_id)
    checkin = submit_checkin(client, patient, instruments={"GAD-7": SEVERE_GAD7})
    [alert] = checkin["alerts"]
    app = client.application
    webhook_id, _ = make_webhook(app, "http://127.0.0.1:9/hook")
    delivery_id = make_delivery(app, webhook_id)
    return Records(
        session_id, note_id, str(checkin["id"]), str(alert["id"]), str(webhook_id), delivery_id
    )


# --- reading lists ----------------------------------------------------------------------------


def follow(
    client: FlaskClient, url: str, headers: dict[str, str], *, limit: int, **params: Any
) -> list[dict[str, Any]]:
    """Every item of a cursor-paginated list, page by page (each page at most `limit`)."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(url, headers=headers, query_string=query)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert page["items"], "a page with a next cursor must not be empty"
    raise AssertionError("the cursor never ran out")


def newest_first(items: list[dict[str, Any]]) -> bool:
    """Ordered by (occurred_at, id), newest first, as the API promises."""
    keys = [(parse(item["occurred_at"]), uuid.UUID(item["id"])) for item in items]
    return keys == sorted(keys, reverse=True)


# --- the stored trail -------------------------------------------------------------------------


def stored_events(app: Flask, **filters: Any) -> list[AuditEvent]:
    """Stored audit events, in chain order."""
    with app.app_context():
        statement = select(AuditEvent).filter_by(**filters).order_by(AuditEvent.sequence)
        return list(db.session.scalars(statement))


def event_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def newest_ids(app: Flask, **filters: Any) -> list[str]:
    """Ids of the stored events matching `filters`, in the API's order (newest first)."""
    with app.app_context():
        statement = (
            select(AuditEvent.id)
            .filter_by(**filters)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        )
        return [str(value) for value in db.session.scalars(statement)]


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def allow_tampering(session: Session) -> None:
    """Switch off the append-only triggers for the rest of the test's transaction (which is
    rolled back after the test, putting them back)."""
    if dialect(session) == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("DROP TRIGGER audit_events_no_delete"))


@contextmanager
def tampering(app: Flask) -> Iterator[Session]:
    """A session in which the audit trail can be changed with plain SQL; committed at the end
    (into the test's transaction, which is still rolled back after the test)."""
    with app.app_context():
        session = db.session
        allow_tampering(session)
        yield session
        session.commit()


# --- the clock --------------------------------------------------------------------------------


@contextmanager
def frozen_at(app: Flask, moment: datetime, *actors: Actor) -> Iterator[list[Actor]]:
    """Freeze the clock at `moment` and sign `actors` in afresh there (a token issued at
    another time would be expired or not yet valid)."""
    with time_machine.travel(moment, tick=False):
        yield [sign_in(app, actor.user) for actor in actors]
