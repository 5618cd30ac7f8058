"""Helpers of the safety-alert tests: URLs, triggering each kind of alert through the API (or
straight through `raise_alert`), a frozen clock that signs actors in afresh, and reads of the
alert list and of the stored rows."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from telehealth.alerts.models import AlertKind, SafetyAlert
from telehealth.alerts.service import Trigger, raise_alert
from telehealth.extensions import db
from tests.factories import Actor
from tests.outcomes.outcome_helpers import gad7, phq9, schedule_session, submit

API = "/api/v1"
ALERTS = f"{API}/alerts"
KINDS = [kind.value for kind in AlertKind]
# The clinical reference's table, written out: what is happening now, around a dose at home,
# before trends.
PRIORITY = {
    "suicidal_ideation": 1,
    "adverse_event": 2,
    "checkpoint_overdue": 3,
    "vital_sign": 4,
    "severe_score": 5,
    "deterioration": 6,
    "missed_checkins": 7,
}
ALERT_KEYS = {
    "id",
    "kind",
    "priority",
    "patient_id",
    "status",
    "reason",
    "source",
    "source_type",
    "source_id",
    "session_id",
    "checkpoint",
    "escalation_level",
    "escalated_at",
    "created_at",
    "acknowledged_by",
    "acknowledged_at",
    "note",
}
# An alert says "review this"; it never tells anyone what to do with medication.
MEDICATION_ADVICE = re.compile(
    r"\b(give|gave|giving|hold|holding|dose|doses|dosing|dosage|titrat\w*|administer\w*|"
    r"withhold\w*|increase|decrease|stop|reduce)\b"
    r"|chang\w*\s+(the\s+|their\s+|your\s+)?(medication|medicine|prescription)",
    re.IGNORECASE,
)


def ack_url(alert_id: str) -> str:
    return f"{ALERTS}/{alert_id}/acknowledge"


def random_id() -> str:
    return str(uuid.uuid4())


def minutes_ago(minutes: float = 1) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


# --- triggers -------------------------------------------------------------------------------


def suicidal_ideation(client: FlaskClient, patient: Actor, **kwargs: Any) -> dict[str, Any]:
    """A check-in with PHQ-9 item 9 answered 1 and a low total (7): only this alert."""
    return submit(client, patient, minutes_ago(), PHQ_9=phq9(7, item9=1), **kwargs)


def severe_score(client: FlaskClient, patient: Actor, **kwargs: Any) -> dict[str, Any]:
    """A check-in with GAD-7 15 (severe) and nothing else."""
    return submit(client, patient, minutes_ago(), GAD_7=gad7(15), **kwargs)


def open_session(
    client: FlaskClient,
    clinician: Actor,
    patient: Actor,
    *,
    headers: dict[str, str] | None = None,
) -> str:
    """A session starting in half an hour, already started (its day is open, so notes can be
    observed now). Nothing of it is overdue for another 45 minutes, so it raises nothing
    itself."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30)
    session_id = schedule_session(client, clinician, patient, start, headers=headers)
    started = client.post(
        f"{API}/sessions/{session_id}/start", headers=headers or clinician.headers, json={}
    )
    assert started.status_code == 200, started.get_json()
    return session_id


def add_note(
    client: FlaskClient, headers: dict[str, str], session_id: str, **fields: Any
) -> dict[str, Any]:
    body = {"observed_at": minutes_ago().isoformat(), "text": "x", **fields}
    response = client.post(f"{API}/sessions/{session_id}/notes", headers=headers, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def vital_sign_note(
    client: FlaskClient, headers: dict[str, str], session_id: str
) -> dict[str, Any]:
    return add_note(client, headers, session_id, vitals={"systolic": 170, "diastolic": 90})


def serious_adverse_event_note(
    client: FlaskClient, headers: dict[str, str], session_id: str, *, serious: bool = True
) -> dict[str, Any]:
    return add_note(
        client,
        headers,
        session_id,
        adverse_event={
            "description": "Fainted on standing; the monitor called an ambulance.",
            "severity": "severe",
            "serious": serious,
            "emergency_care": serious,
            "action_taken": "Stayed with the patient until help came.",
        },
    )


def raise_directly(
    app: Flask,
    patient_id: str,
    kind: AlertKind,
    *,
    source_id: uuid.UUID | None = None,
    source_type: str = "test",
) -> str:
    """An alert raised straight through the service (committed); its id."""
    with app.app_context(), db.begin() as session:
        alert = raise_alert(
            session,
            Trigger(
                patient_id=uuid.UUID(patient_id),
                kind=kind,
                source_type=source_type,
                source_id=source_id or uuid.uuid4(),
                reason="Review the session.",
            ),
        )
        return str(alert.id)


# --- reads ----------------------------------------------------------------------------------


def list_page(client: FlaskClient, headers: dict[str, str], **query: Any) -> dict[str, Any]:
    response = client.get(ALERTS, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"items", "next_cursor"}, body
    for item in body["items"]:
        assert set(item) == ALERT_KEYS, item
        assert item["source"] == {"type": item["source_type"], "id": item["source_id"]}, item
    return body  # type: ignore[no-any-return]


def list_all(client: FlaskClient, headers: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    """Every alert of the list (following cursors), in the order served."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = list_page(client, headers, **query, **({"cursor": cursor} if cursor else {}))
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def stored_alerts(app: Flask, **where: Any) -> list[SafetyAlert]:
    """Stored alerts matching `where` (attribute=value; *_id values may be strings)."""
    criteria = {
        key: uuid.UUID(value) if key.endswith("_id") and isinstance(value, str) else value
        for key, value in where.items()
    }
    with app.app_context():
        return list(db.session.scalars(select(SafetyAlert).filter_by(**criteria)))
