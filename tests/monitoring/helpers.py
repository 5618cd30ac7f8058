"""Helpers shared by the monitoring tests: URLs, request bodies, problem checks, a frozen clock
and direct reads of what the service stored (notes, amendments, safety alerts)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from telehealth.alerts.models import SafetyAlert
from telehealth.extensions import db
from telehealth.monitoring.models import MonitoringNote, NoteAmendment
from tests.factories import Actor
from tests.problems import INTERNALS, PROBLEM_JSON, assert_problem, names_field  # noqa: F401 - re-exported

API = "/api/v1"
# An alert says "review this"; it never tells anyone what to do with medication.
MEDICATION_ADVICE = re.compile(
    r"\b(give|gave|hold|dose|doses|dosing|dosage|titrat\w*|administer\w*|withhold)\b"
    r"|change\s+(the\s+)?medication",
    re.IGNORECASE,
)

SCHEDULED_START = "2026-12-01T14:00:00+01:00"
SCHEDULED_START_UTC = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
CHECKPOINTS = ("pre_session", "plus_40_min", "end_of_session")


def random_id() -> str:
    return str(uuid.uuid4())


def notes_url(session_id: str) -> str:
    return f"{API}/sessions/{session_id}/notes"


def note_url(note_id: str) -> str:
    return f"{API}/notes/{note_id}"


def sign_url(note_id: str) -> str:
    return f"{API}/notes/{note_id}/sign"


def amendments_url(note_id: str) -> str:
    return f"{API}/notes/{note_id}/amendments"


def timeline_url(session_id: str) -> str:
    return f"{API}/sessions/{session_id}/timeline"


def medication_url(session_id: str) -> str:
    return f"{API}/sessions/{session_id}/medication-taken"


def rfc3339(moment: datetime) -> str:
    return moment.isoformat()


def parse_time(value: str | None) -> datetime | None:
    """A timestamp from a response, which must be in UTC."""
    if value is None:
        return None
    assert value.endswith(("Z", "+00:00")), value
    return datetime.fromisoformat(value)


def minutes_ago(minutes: float = 1) -> str:
    return rfc3339(datetime.now(UTC) - timedelta(minutes=minutes))


def note_body(**overrides: Any) -> dict[str, Any]:
    """A valid note body (free text only, observed a minute ago); keyword arguments add or
    replace fields, and None drops one."""
    body: dict[str, Any] = {
        "observed_at": minutes_ago(),
        "text": "Calm, talking in full sentences.",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def full_note_body(**overrides: Any) -> dict[str, Any]:
    """A note using every field, all within range and below every review flag."""
    return note_body(
        checkpoint="plus_40_min",
        vitals={
            "systolic": 132,
            "diastolic": 84,
            "heart_rate": 78,
            "spo2": 97,
            "respiratory_rate": 14,
            "temperature": 36.8,
        },
        sedation=4,
        dissociation="mild",
        side_effects=["nausea", "blurred_vision"],
        adverse_event={
            "description": "Brief nausea, settled without intervention.",
            "severity": "mild",
            "serious": False,
            "emergency_care": False,
            "action_taken": "Reassured; monitor stayed with the patient.",
        },
        **overrides,
    )


def adverse_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "description": "Vomited twice.",
        "severity": "moderate",
        "serious": False,
        "emergency_care": False,
    }
    event.update(overrides)
    return event


def schedule_session(
    client: FlaskClient,
    clinician: Actor,
    patient: Actor,
    *,
    scheduled_start: str = SCHEDULED_START,
    headers: dict[str, str] | None = None,
) -> str:
    """Schedule a session through the API; returns its id."""
    response = client.post(
        f"{API}/sessions",
        headers=headers or clinician.headers,
        json={
            "patient_id": patient.id,
            "scheduled_start": scheduled_start,
            "duration_minutes": 120,
            "modality": "video",
            "treatment_monitor": {"name": "Sam Sitter", "phone": "+1 555 0100"},
        },
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def start_and_medicate(
    client: FlaskClient,
    clinician: Actor,
    session_id: str,
    *,
    taken_at: str | None = "2026-12-01T12:00:00Z",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Start the session and record the medication (by default when the session's day opens,
    an hour before its 13:00 UTC start, so every checkpoint window opens early); the session."""
    headers = headers or clinician.headers
    started = client.post(f"{API}/sessions/{session_id}/start", headers=headers, json={})
    assert started.status_code == 200, started.get_json()
    body = {} if taken_at is None else {"taken_at": taken_at}
    taken = client.post(medication_url(session_id), headers=headers, json=body)
    assert taken.status_code == 200, taken.get_json()
    return taken.get_json()  # type: ignore[no-any-return]


def create_note(
    client: FlaskClient, headers: dict[str, str], session_id: str, **fields: Any
) -> dict[str, Any]:
    """Record a note (a valid body, with `fields` added or replaced); returns the note."""
    response = client.post(notes_url(session_id), headers=headers, json=note_body(**fields))
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def add_to_care_team(client: FlaskClient, by: Actor, patient: Actor, clinician: Actor) -> None:
    response = client.put(
        f"{API}/patients/{patient.id}/care-team/{clinician.id}", headers=by.headers
    )
    assert response.status_code in (200, 201, 204), response.get_json()


def checkpoint(timeline: dict[str, Any], name: str) -> dict[str, Any]:
    """One checkpoint of a timeline response, by name."""
    (found,) = [item for item in timeline["checkpoints"] if item["name"] == name]
    return found


def alerts(app: Flask, **where: Any) -> list[SafetyAlert]:
    """Stored safety alerts matching `where` (attribute=value; ids may be strings)."""
    criteria = {
        key: uuid.UUID(value) if key.endswith("_id") and isinstance(value, str) else value
        for key, value in where.items()
    }
    with app.app_context():
        return list(db.session.scalars(select(SafetyAlert).filter_by(**criteria)))


def count_notes(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(MonitoringNote)) or 0


def count_amendments(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(NoteAmendment)) or 0


def stored_note(app: Flask, note_id: str) -> MonitoringNote | None:
    with app.app_context():
        return db.session.get(MonitoringNote, uuid.UUID(note_id))
