"""Shared by the hardening tests: a scene of records to write against, every JSON write route
with a valid body, raw requests, and proof that a refused request wrote nothing.

"Nothing written" is checked on the database itself: every row of every table (but the audit
trail, where a refusal is rightly recorded) is read before and after the request and compared,
and the audit trail may gain no successful event. That covers inserts, updates and deletes,
not just row counts.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from telehealth.audit.models import AuditEvent, Outcome
from telehealth.db import Base
from telehealth.extensions import db
from tests.factories import PASSWORD, Actor
from tests.problems import PROBLEM_JSON, assert_problem

API = "/api/v1"
KIB = 1024
#: Comfortably under the 64 KiB body cap, far over every field's bound.
LONG = 20_000
#: The words of a leaked stack trace (tests.problems.INTERNALS has the SQL ones).
TRACE_WORDS = ("traceback", 'file "', "line ", "exception", ".py")
#: A request that takes longer than this is a hang, as far as a phone is concerned.
PATIENCE_SECONDS = 10.0

_numbers = itertools.count(1)


def unique_email(label: str = "hardening") -> str:
    return f"{label}{next(_numbers)}@example.test"


def rfc3339(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def minutes_ago(minutes: int) -> str:
    return rfc3339(datetime.now(UTC) - timedelta(minutes=minutes))


def days_ahead(days: int, hour: int = 15) -> str:
    moment = datetime.now(UTC) + timedelta(days=days)
    return rfc3339(moment.replace(hour=hour, minute=0, second=0))


# --- the scene --------------------------------------------------------------------------------


@dataclass
class Scene:
    """The world's actors plus one of each record a write route acts on."""

    world: Any
    session_id: str
    session_etag: str
    patient_etag: str
    note_id: str
    alert_id: str
    invitation_token: str

    @property
    def clinician(self) -> Actor:
        return self.world.clinician  # type: ignore[no-any-return]

    @property
    def patient(self) -> Actor:
        return self.world.patient  # type: ignore[no-any-return]

    @property
    def admin(self) -> Actor:
        return self.world.admin  # type: ignore[no-any-return]


def build_scene(client: FlaskClient, world: Any) -> Scene:
    clinician, patient = world.clinician, world.patient
    scheduled = client.post(
        f"{API}/sessions",
        headers=clinician.headers,
        json={
            "patient_id": patient.id,
            # Half an hour ahead: the session's day is open, so a note may be observed now.
            "scheduled_start": rfc3339(
                (datetime.now(UTC) + timedelta(minutes=30)).replace(second=0, microsecond=0)
            ),
            "duration_minutes": 120,
            "modality": "video",
            "treatment_monitor": {"name": "Sam Sitter", "phone": "+1 555 0199"},
        },
    )
    assert scheduled.status_code == 201, scheduled.get_json()
    session_id = scheduled.get_json()["id"]
    note = client.post(
        f"{API}/sessions/{session_id}/notes",
        headers=clinician.headers,
        json={"observed_at": minutes_ago(2), "text": "Calm, talking in full sentences."},
    )
    assert note.status_code == 201, note.get_json()
    checkin = client.post(
        f"{API}/checkins",
        headers=patient.headers,
        json={"recorded_at": minutes_ago(30), "mood": 3, "instruments": {"PHQ-9": ITEM9_TWO}},
    )
    assert checkin.status_code == 201, checkin.get_json()
    invited = client.post(
        f"{API}/clinicians",
        headers=world.admin.headers,
        json={"email": unique_email("invited"), "name": "Dr. Invited"},
    )
    assert invited.status_code == 201, invited.get_json()
    patient_read = client.get(f"{API}/patients/{patient.id}", headers=clinician.headers)
    assert patient_read.status_code == 200
    return Scene(
        world=world,
        session_id=session_id,
        session_etag=scheduled.headers["ETag"],
        patient_etag=patient_read.headers["ETag"],
        note_id=note.get_json()["id"],
        alert_id=checkin.get_json()["alerts"][0]["id"],
        invitation_token=invited.get_json()["invitation_token"],
    )


#: PHQ-9 with item 9 (thoughts of self-harm) answered 2, total 2: a suicidal-ideation alert only.
ITEM9_TWO = [0, 0, 0, 0, 0, 0, 0, 0, 2]


# --- the write routes -------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteRoute:
    """A JSON write route: how to call it as an allowed caller with a valid body."""

    method: str
    path: Callable[[Scene], str]
    actor: Callable[[Scene], Actor | None]
    body: Callable[[Scene], dict[str, Any]]
    headers: Callable[[Scene], dict[str, str]] = lambda _scene: {}

    def request_headers(self, scene: Scene) -> dict[str, str]:
        actor = self.actor(scene)
        return {**(actor.headers if actor else {}), **self.headers(scene)}


def _note_body(_scene: Scene) -> dict[str, Any]:
    return {
        "checkpoint": "pre_session",
        "observed_at": minutes_ago(1),
        "vitals": {"systolic": 128, "diastolic": 82, "heart_rate": 76, "spo2": 98},
        "sedation": 5,
        "dissociation": "none",
        "side_effects": ["nausea"],
        "adverse_event": {
            "description": "Brief nausea, settled without intervention.",
            "severity": "mild",
            "serious": False,
            "emergency_care": False,
            "action_taken": "Reassured; the monitor stayed with the patient.",
        },
        "text": "Calm; vitals taken before the session.",
    }


WRITE_ROUTES: dict[str, WriteRoute] = {
    "POST /patients": WriteRoute(
        "POST",
        lambda s: f"{API}/patients",
        lambda s: s.clinician,
        lambda s: {
            "email": unique_email("newpatient"),
            "name": "Hana Hardening",
            "date_of_birth": "1985-03-04",
            "timezone": "Europe/Berlin",
            "emergency_contact": {"name": "Erin Contact", "phone": "+49 30 1234567"},
        },
    ),
    "PATCH /patients/{id}": WriteRoute(
        "PATCH",
        lambda s: f"{API}/patients/{s.patient.id}",
        lambda s: s.clinician,
        lambda s: {
            "email": unique_email("renamed"),
            "name": "Pat Renamed",
            "timezone": "America/Chicago",
            "emergency_contact": {"name": "New Contact", "phone": "+1 555 0111"},
        },
        lambda s: {"If-Match": s.patient_etag},
    ),
    "POST /clinicians": WriteRoute(
        "POST",
        lambda s: f"{API}/clinicians",
        lambda s: s.admin,
        lambda s: {"email": unique_email("doc"), "name": "Dr. Harden"},
    ),
    "POST /sessions": WriteRoute(
        "POST",
        lambda s: f"{API}/sessions",
        lambda s: s.clinician,
        lambda s: {
            "patient_id": s.patient.id,
            "scheduled_start": days_ahead(14),
            "duration_minutes": 60,
            "modality": "phone",
            "treatment_monitor": {"name": "Tess Monitor", "phone": "+1 555 0123"},
            "notes": "Bring the safety plan.",
        },
    ),
    "PATCH /sessions/{id}": WriteRoute(
        "PATCH",
        lambda s: f"{API}/sessions/{s.session_id}",
        lambda s: s.clinician,
        lambda s: {
            "scheduled_start": days_ahead(21),
            "modality": "phone",
            "treatment_monitor": {"name": "Tess Monitor", "phone": "+1 555 0123"},
            "notes": "Moved by a week.",
        },
        lambda s: {"If-Match": s.session_etag},
    ),
    "POST /sessions/{id}/cancel": WriteRoute(
        "POST",
        lambda s: f"{API}/sessions/{s.session_id}/cancel",
        lambda s: s.clinician,
        lambda s: {"reason": "The patient asked to move it."},
    ),
    "POST /sessions/{id}/notes": WriteRoute(
        "POST",
        lambda s: f"{API}/sessions/{s.session_id}/notes",
        lambda s: s.clinician,
        _note_body,
    ),
    "POST /notes/{id}/amendments": WriteRoute(
        "POST",
        lambda s: f"{API}/notes/{s.note_id}/amendments",
        lambda s: s.clinician,
        lambda s: {"text": "Heart rate was 76, not 67.", "reason": "Typo in the first entry."},
    ),
    "POST /checkins": WriteRoute(
        "POST",
        lambda s: f"{API}/checkins",
        lambda s: s.patient,
        lambda s: {
            "recorded_at": minutes_ago(10),
            "mood": 6,
            "anxiety": 3,
            "sleep_hours": 7.5,
            "note": "Slept well.",
            "context": "pre_session",
            "session_id": s.session_id,
            "instruments": {"PHQ-9": [1, 1, 0, 0, 1, 0, 0, 0, 0]},
        },
        lambda s: {"Idempotency-Key": "hardening-checkin-1"},
    ),
    "POST /alerts/{id}/acknowledge": WriteRoute(
        "POST",
        lambda s: f"{API}/alerts/{s.alert_id}/acknowledge",
        lambda s: s.clinician,
        lambda s: {"note": "Phoned the patient; safety plan reviewed."},
    ),
    "POST /auth/login": WriteRoute(
        "POST",
        lambda s: f"{API}/auth/login",
        lambda s: None,
        lambda s: {"email": s.patient.user.email, "password": PASSWORD},
    ),
    "POST /auth/activate": WriteRoute(
        "POST",
        lambda s: f"{API}/auth/activate",
        lambda s: None,
        lambda s: {"token": s.invitation_token, "password": "a brand new passphrase"},
    ),
}
ROUTE_NAMES = list(WRITE_ROUTES)


def send(
    client: FlaskClient,
    scene: Scene,
    name: str,
    *,
    body: Any = None,
    raw: bytes | str | None = None,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
    **options: Any,
) -> TestResponse:
    """Call write route `name` as its allowed caller: with `raw` bytes as they are, else with
    `body` (default: the valid body) as JSON, under `content_type` (None: no Content-Type)."""
    route = WRITE_ROUTES[name]
    document = route.body(scene) if body is None else body
    data = raw if raw is not None else json.dumps(document, separators=(",", ":"))
    if content_type is not None:
        options["content_type"] = content_type
    return client.open(
        route.path(scene),
        method=route.method,
        data=data,
        headers={**route.request_headers(scene), **(headers or {})},
        **options,
    )


def string_leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every string in a JSON document (object keys and list indexes)."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from string_leaves(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from string_leaves(child, (*path, index))


def get_at(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of `document` with the value at `path` replaced."""
    copy = json.loads(json.dumps(document))
    *parents, last = path
    get_at(copy, tuple(parents))[last] = value
    return copy


def field_name(path: tuple[Any, ...]) -> str:
    """The name an `errors` member uses for `path`: dotted, without list indexes."""
    return ".".join(str(part) for part in path if not isinstance(part, int))


# --- proof that nothing was written -----------------------------------------------------------


def snapshot(app: Flask) -> dict[str, Any]:
    """Every row of every table but the audit trail, and the number of successful audit
    events, read through the test's connection."""
    with app.app_context():
        session = db.session
        rows = {
            table.name: sorted(repr(tuple(row)) for row in session.execute(select(table)))
            for table in Base.metadata.sorted_tables
            if table.name != AuditEvent.__tablename__
        }
        rows["audit_events (successful)"] = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.outcome == Outcome.SUCCESS)
        )
        return rows


def assert_unchanged(before: dict[str, Any], after: dict[str, Any]) -> None:
    changed = [name for name in before if before[name] != after.get(name)]
    assert not changed, f"the refused request changed {changed}"


def assert_clean_problem(response: TestResponse, *statuses: int) -> dict[str, Any]:
    """A problem+json with one of `statuses` and no trace, SQL or internal name in it."""
    assert response.status_code in statuses, (
        response.status_code,
        response.get_data(as_text=True)[:500],
    )
    body = assert_problem(response, response.status_code)
    assert response.mimetype == PROBLEM_JSON
    text = response.get_data(as_text=True).lower()
    leaked = [word for word in TRACE_WORDS if word in text]
    assert not leaked, (leaked, text[:500])
    return body


@dataclass
class Refusal:
    """What one refused request answered and how long it took."""

    response: TestResponse
    seconds: float


def refused(
    app: Flask, call: Callable[[], TestResponse], *statuses: int
) -> tuple[dict[str, Any], Refusal]:
    """Run `call`, which must be refused with one of `statuses` as a clean problem, promptly,
    and write nothing. Returns the problem body and the refusal."""
    before = snapshot(app)
    started = time.perf_counter()
    response = call()
    seconds = time.perf_counter() - started
    body = assert_clean_problem(response, *statuses)
    assert seconds < PATIENCE_SECONDS, f"took {seconds:.1f}s"
    assert_unchanged(before, snapshot(app))
    return body, Refusal(response, seconds)
