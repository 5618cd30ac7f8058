"""SQL statement counts per request: deterministic, not timed.

What is counted. A listener on the app's engine (`app.extensions["database"]["engine"]`; the
test harness binds every session to one connection of that engine, so its events fire) records
each statement the request sends through a cursor, from the moment the test client is called
until it returns: authentication, the view, the serializer's lazy loads, and the request
boundary (`telehealth.transactions`: the audit event and the commit). Statements are split in
two:

- queries: everything else, what the request asks of the database. The budgets count these.
  An executemany (the ORM inserting several rows of one table at once) is one.
- transaction control: BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE. Not budgeted: under the
  harness (tests/conftest.py `app`) each request's session opens a SAVEPOINT and its commit is a
  RELEASE SAVEPOINT, where production sends BEGIN (SQLite: BEGIN IMMEDIATE; psycopg begins
  implicitly) and a COMMIT through the driver that no cursor sees. They are listed in failure
  messages all the same.

Two tables state the budgets, each the count measured when it was written (lower one when a
change saves a statement):

- LIST_BUDGETS: every list route (a GET whose query arguments take `limit` and `cursor`, found
  in the URL map; one missing from the table fails). Each lists more rows than the largest page;
  the count must not depend on the page size (limit 1, limit 100 and the next page by cursor),
  so no query runs per item.
- ROUTE_BUDGETS: the main single-record and write requests.

Every audited route ends with the same statement, the audit event (AUDIT): on SQLite one
INSERT … SELECT that links it to the chain and hashes in the database; on PostgreSQL one INSERT
of the event unlinked, which a deferred trigger links inside COMMIT (telehealth/audit/chain.py).
So a budget is `audited(n)`: the request's own n queries, then the audit event's statement;
`unaudited(n)` is n.

And authentication (token check, revocation check, current user) is one query: every request
here touches `token_families` exactly once, first, and GET /me costs that query alone.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from telehealth.accounts.models import Role, User
from telehealth.alerts.models import AlertKind, SafetyAlert
from telehealth.audit import chain
from telehealth.audit.models import AuditEvent, Outcome
from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.db import new_id, utcnow
from telehealth.extensions import db
from telehealth.instruments.definitions import INSTRUMENTS
from telehealth.monitoring.models import AdverseEvent, MonitoringNote, NoteAmendment, Severity
from telehealth.outbound.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    EventType,
    Notification,
    OutboxEvent,
)
from telehealth.pagination import MAX_LIMIT
from telehealth.patients.models import CareTeamMember, Patient
from telehealth.sessions.models import (
    Modality,
    SessionStatus,
    SessionTransition,
    TreatmentSession,
)
from telehealth.webhooks.models import WebhookEndpoint
from tests.checkins.checkin_helpers import (
    IDEMPOTENCY_KEY,
    PHQ9_ITEM9_ONE,
    PHQ9_MILD,
    checkin_body,
    schedule_session,
)
from tests.factories import Actor
from tests.monitoring.helpers import note_body

API = "/api/v1"
#: Rows seeded for each list: more than the largest page, so limit 1 and limit 100 both come
#: back full, and the page after the first single item is full too.
SEEDED = MAX_LIMIT + 5
GAD7_MODERATE = [2, 2, 1, 2, 1, 1, 1]
BEGUN = [SessionStatus.IN_PROGRESS, SessionStatus.COMPLETED]

# --- counting ---------------------------------------------------------------------------------

_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


def abbreviate(statement: str, width: int = 220) -> str:
    """One line: whitespace collapsed, the column list of a SELECT elided, cut at `width`."""
    line = " ".join(statement.split())
    line = re.sub(r"^SELECT (?!pg_advisory)(.+?) FROM ", "SELECT … FROM ", line, count=1)
    return line if len(line) <= width else line[: width - 1] + "…"


@dataclass
class Statements:
    """What one request sent to the database, in order: (is transaction control, SQL)."""

    sent: list[tuple[bool, str]] = field(default_factory=list)

    def add(self, statement: str, executemany: bool) -> None:
        text = statement + ("  -- executemany" if executemany else "")
        self.sent.append((bool(_CONTROL.match(statement)), text))

    @property
    def queries(self) -> list[str]:
        return [text for is_control, text in self.sent if not is_control]

    @property
    def control(self) -> list[str]:
        return [text for is_control, text in self.sent if is_control]

    def touching(self, table: str) -> list[str]:
        pattern = re.compile(rf"\b{re.escape(table)}\b")
        return [query for query in self.queries if pattern.search(query)]

    def __str__(self) -> str:
        """Numbered queries, abbreviated, with the transaction control in parentheses."""
        lines, number = [], 0
        for is_control, text in self.sent:
            if is_control:
                lines.append(f"      ({abbreviate(text)})")
            else:
                number += 1
                lines.append(f"  {number:>3}. {abbreviate(text)}")
        return f"{len(self.queries)} queries, {len(self.control)} control:\n" + "\n".join(lines)


@contextmanager
def counting(app: Flask) -> Iterator[Statements]:
    """Record every statement sent through the app's engine inside the block."""
    engine: Engine = app.extensions["database"]["engine"]
    recorded = Statements()

    def record(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, executemany: bool
    ) -> None:
        recorded.add(statement, executemany)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield recorded
    finally:
        event.remove(engine, "before_cursor_execute", record)


@dataclass(frozen=True)
class Budget:
    sqlite: int
    postgresql: int

    def of(self, app: Flask) -> int:
        dialect: str = app.extensions["database"]["engine"].dialect.name
        return self.postgresql if dialect == "postgresql" else self.sqlite


#: The audit event written at the request boundary: one statement on either database (the
#: PostgreSQL link and its lock happen inside COMMIT, which no cursor sees).
AUDIT = Budget(sqlite=1, postgresql=1)


def audited(queries: int) -> Budget:
    """An audited route: its own `queries`, then the audit event's statements."""
    return Budget(sqlite=queries + AUDIT.sqlite, postgresql=queries + AUDIT.postgresql)


def unaudited(queries: int) -> Budget:
    return Budget(sqlite=queries, postgresql=queries)


def assert_authenticated_once(statements: Statements) -> None:
    """The token check, revocation check and current user are one query, the first."""
    auth = statements.touching("token_families")
    assert len(auth) == 1, f"authentication took {len(auth)} queries\n{statements}"
    assert statements.queries[0] == auth[0], f"authentication is not first\n{statements}"


def assert_within(statements: Statements, budget: Budget, app: Flask, what: str) -> None:
    allowed = budget.of(app)
    assert len(statements.queries) <= allowed, (
        f"{what}: {len(statements.queries)} queries, budget {allowed}\n{statements}"
    )


# --- seeding (bulk, straight into the database) -----------------------------------------------


@contextmanager
def seeding(app: Flask) -> Iterator[Session]:
    """A session in the test's transaction, committed (released) at the end of the block."""
    with app.app_context(), db.begin() as session:
        yield session


def uid(actor: Actor) -> uuid.UUID:
    return actor.user.id


def seed_clinicians(app: Flask, world: Any) -> dict[str, str]:
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "email": f"perf-clinician-{i:03d}@example.test",
            "name": f"Dr. Perf {i:03d}",
            "role": Role.CLINICIAN,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(SEEDED)
    ]
    with seeding(app) as session:
        session.execute(insert(User), rows)
    return {}


def seed_notifications(app: Flask, world: Any) -> dict[str, str]:
    """World.clinician's inbox: one event, and an entry for each of SEEDED events."""
    now = utcnow()
    events = [
        {"id": new_id(), "type": EventType.ALERT_RAISED, "data": {}, "recipients": [],
         "created_at": now, "fanned_out_at": now}
        for _ in range(SEEDED)
    ]  # fmt: skip
    entries = [
        {"id": new_id(), "user_id": world.clinician.user.id, "event_id": event["id"],
         "kind": EventType.ALERT_RAISED, "title": "Safety alert to review", "body": "Open it.",
         "created_at": now - timedelta(seconds=i)}
        for i, event in enumerate(events)
    ]  # fmt: skip
    with seeding(app) as session:
        session.execute(insert(OutboxEvent), events)
        session.execute(insert(Notification), entries)
    return {}


def seed_webhooks(app: Flask, world: Any) -> dict[str, str]:
    now = utcnow()
    rows = [
        {"id": new_id(), "url": f"https://hooks.example.org/{i}", "events": ["*"],
         "secret": "whsec_c2VjcmV0", "created_at": now - timedelta(seconds=i)}
        for i in range(SEEDED)
    ]  # fmt: skip
    with seeding(app) as session:
        session.execute(insert(WebhookEndpoint), rows)
    return {}


def seed_webhook_deliveries(app: Flask, world: Any) -> dict[str, str]:
    """One webhook, and a delivery to it of each of SEEDED events."""
    now, webhook_id = utcnow(), new_id()
    events = [
        {"id": new_id(), "type": EventType.ALERT_RAISED, "data": {}, "recipients": [],
         "created_at": now, "fanned_out_at": now}
        for _ in range(SEEDED)
    ]  # fmt: skip
    deliveries = [
        {"id": new_id(), "event_id": event["id"], "channel": Channel.WEBHOOK,
         "target_id": webhook_id, "status": DeliveryStatus.PENDING, "attempts": 0,
         "next_attempt_at": now, "created_at": now - timedelta(seconds=i)}
        for i, event in enumerate(events)
    ]  # fmt: skip
    with seeding(app) as session:
        session.execute(
            insert(WebhookEndpoint),
            [{"id": webhook_id, "url": "https://hooks.example.org/", "events": ["*"],
              "secret": "whsec_c2VjcmV0", "created_at": now}],
        )  # fmt: skip
        session.execute(insert(OutboxEvent), events)
        session.execute(insert(Delivery), deliveries)
    return {"webhook_id": str(webhook_id)}


def seed_patients(app: Flask, world: Any) -> dict[str, str]:
    """Patients on world.clinician's care team; each with a second clinician on the team, so
    the care-team lists have more than one member to load."""
    now, ids = utcnow(), [new_id() for _ in range(SEEDED)]
    users = [
        {
            "id": patient_id,
            "email": f"perf-patient-{i:03d}@example.test",
            "name": f"Perf Patient {i:03d}",
            "role": Role.PATIENT,
            "created_at": now,
            "updated_at": now,
        }
        for i, patient_id in enumerate(ids)
    ]
    patients = [
        {
            "id": patient_id,
            "date_of_birth": date(1980, 1, 2),
            "timezone": "America/New_York",
            "emergency_contact_name": "Em Contact",
            "emergency_contact_phone": "+1 555 0100",
            "created_by_id": uid(world.clinician),
            "created_at": now,
            "updated_at": now,
        }
        for patient_id in ids
    ]
    members = [
        {"patient_id": patient_id, "clinician_id": uid(clinician), "added_at": now}
        for patient_id in ids
        for clinician in (world.clinician, world.lone_clinician)
    ]
    with seeding(app) as session:
        session.execute(insert(User), users)
        session.execute(insert(Patient), patients)
        session.execute(insert(CareTeamMember), members)
    return {}


def seed_sessions(
    app: Flask,
    patient: Actor,
    clinician: Actor,
    count: int,
    *,
    first_start: datetime,
    status: SessionStatus = SessionStatus.COMPLETED,
) -> list[uuid.UUID]:
    """`count` sessions a day apart, each with the transitions that led to `status`; a begun
    one had the medication taken ten minutes after its start."""
    ids = [new_id() for _ in range(count)]
    sessions, transitions = [], []
    for day, session_id in enumerate(ids):
        start = first_start + timedelta(days=day)
        sessions.append(
            {
                "id": session_id,
                "patient_id": uid(patient),
                "clinician_id": uid(clinician),
                "scheduled_start": start,
                "scheduled_end": start + timedelta(minutes=120),
                "duration_minutes": 120,
                "modality": Modality.VIDEO,
                "treatment_monitor_name": "Sam Sitter",
                "treatment_monitor_phone": "+1 555 0199",
                "status": status,
                "medication_taken_at": start + timedelta(minutes=10) if status in BEGUN else None,
                "created_at": start - timedelta(days=7),
                "updated_at": start,
            }
        )
        moves = [
            (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS, start),
            (SessionStatus.IN_PROGRESS, SessionStatus.COMPLETED, start + timedelta(hours=2)),
        ][: BEGUN.index(status) + 1 if status in BEGUN else 0]
        transitions += [
            {
                "session_id": session_id,
                "from_status": before,
                "to_status": after,
                "actor_id": uid(clinician),
                "occurred_at": moment,
            }
            for before, after, moment in moves
        ]
    with seeding(app) as session:
        session.execute(insert(TreatmentSession), sessions)
        if transitions:
            session.execute(insert(SessionTransition), transitions)
    return ids


def seed_past_sessions(app: Flask, world: Any) -> dict[str, str]:
    seed_sessions(
        app, world.patient, world.clinician, SEEDED, first_start=utcnow() - timedelta(days=200)
    )
    return {}


def seed_notes(app: Flask, world: Any) -> dict[str, str]:
    """Notes of one session, each with an amendment, every tenth with an adverse event."""
    [session_id] = seed_sessions(
        app, world.patient, world.clinician, 1, first_start=utcnow() - timedelta(days=3)
    )
    start, ids = utcnow() - timedelta(days=3), [new_id() for _ in range(SEEDED)]
    notes = [
        {
            "id": note_id,
            "session_id": session_id,
            "patient_id": uid(world.patient),
            "author_id": uid(world.clinician),
            "observed_at": start + timedelta(seconds=i),
            "heart_rate": 80,
            "side_effects": [],
            "text": f"Observation {i}.",
        }
        for i, note_id in enumerate(ids)
    ]
    amendments = [
        {"note_id": note_id, "author_id": uid(world.clinician), "text": "Also.", "reason": "Late."}
        for note_id in ids
    ]
    adverse_events = [
        {
            "note_id": note_id,
            "description": "Brief nausea.",
            "severity": Severity.MILD,
            "serious": False,
            "emergency_care": False,
        }
        for note_id in ids[::10]
    ]
    with seeding(app) as session:
        session.execute(insert(MonitoringNote), notes)
        session.execute(insert(NoteAmendment), amendments)
        session.execute(insert(AdverseEvent), adverse_events)
    return {"session_id": str(session_id)}


def seed_checkins(
    app: Flask,
    patient: Actor,
    moments: list[datetime],
    instruments: dict[str, list[int]],
) -> list[uuid.UUID]:
    """A check-in at each moment, with a score for each of `instruments`."""
    ids = [new_id() for _ in moments]
    checkins = [
        {
            "id": checkin_id,
            "patient_id": uid(patient),
            "recorded_at": moment,
            "received_at": moment,
            "updated_at": moment,
            "mood": 6,
        }
        for checkin_id, moment in zip(ids, moments, strict=True)
    ]
    scores = []
    for checkin_id, moment in zip(ids, moments, strict=True):
        for code, answers in instruments.items():
            instrument = INSTRUMENTS[code]
            score = instrument.score(answers, app.config)
            scores.append(
                {
                    "checkin_id": checkin_id,
                    "patient_id": uid(patient),
                    "instrument": code,
                    "version": instrument.version,
                    "recorded_at": moment,
                    "answers": answers,
                    "total": score.total,
                    "band": score.band,
                    "extra": score.extra,
                }
            )
    with seeding(app) as session:
        session.execute(insert(MoodCheckIn), checkins)
        session.execute(insert(InstrumentScore), scores)
    return ids


def seed_patient_checkins(app: Flask, world: Any) -> dict[str, str]:
    now = utcnow()
    moments = [now - timedelta(hours=i + 1) for i in range(SEEDED)]
    seed_checkins(app, world.patient, moments, {"PHQ-9": PHQ9_MILD, "GAD-7": GAD7_MODERATE})
    return {"patient_id": world.patient.id}


def seed_alerts(app: Flask, world: Any) -> dict[str, str]:
    now, kinds = utcnow(), list(AlertKind)
    rows = [
        {
            "id": new_id(),
            "patient_id": uid(world.patient),
            "kind": kinds[i % len(kinds)],
            "priority": kinds[i % len(kinds)].priority,
            "source_type": "checkin",
            "source_id": new_id(),
            "reason": "Review.",
            "created_at": now - timedelta(minutes=i),
            "updated_at": now - timedelta(minutes=i),
        }
        for i in range(SEEDED)
    ]
    with seeding(app) as session:
        session.execute(insert(SafetyAlert), rows)
    return {}


def seed_audit_events(app: Flask, world: Any) -> dict[str, str]:
    """Audit events about world.patient by each of its readers, appended to the hash chain."""
    readers = (world.clinician, world.patient, world.admin)
    with seeding(app) as session:
        for i in range(SEEDED):
            reader = readers[i % len(readers)]
            chain.append(
                session,
                AuditEvent(
                    actor_id=uid(reader),
                    actor_role=reader.user.role.value,
                    action="patient.read",
                    resource_type="patient",
                    resource_id=world.patient.id,
                    patient_id=uid(world.patient),
                    outcome=Outcome.SUCCESS,
                    status_code=200,
                ),
            )
    return {"patient_id": world.patient.id}


def seed_audit_trail(app: Flask, world: Any) -> dict[str, str]:
    seed_audit_events(app, world)
    return {}


# --- list routes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListCase:
    """Who lists, what to seed first (returns the URL arguments), and the budget."""

    actor: str
    seed: Callable[[Flask, Any], dict[str, str]]
    budget: Budget


P = f"{API}/patients/<uuid:patient_id>"

# Budgets: the request's own queries as measured (see `audited`), with what they are. "auth" is
# the token query (users JOIN token_families).
LIST_BUDGETS: dict[str, ListCase] = {
    # auth 1 + users page 1. Not audited.
    f"{API}/clinicians": ListCase("admin", seed_clinicians, unaudited(2)),
    # auth 1 + patients JOIN users page 1 + care teams (selectin, JOIN users) 1.
    f"{API}/patients": ListCase("clinician", seed_patients, audited(3)),
    # auth 1 + sessions JOIN patients page 1. Their histories only on request (below).
    f"{API}/sessions": ListCase("clinician", seed_past_sessions, audited(2)),
    # auth 1 + the session (get_session) 1 + its transitions (selectin) 1 + notes page 1
    # + adverse events (selectin) 1 + amendments (selectin) 1.
    f"{API}/sessions/<uuid:session_id>/notes": ListCase("clinician", seed_notes, audited(6)),
    # auth 1 + the check-ins page joined to its scores, the care-team rule in its WHERE 1
    # (an empty page asks once more whether the caller may see the patient).
    f"{P}/checkins": ListCase("clinician", seed_patient_checkins, audited(2)),
    # auth 1 + overdue-checkpoint sweep, recent sessions 1 (none here, so it stops)
    # + alerts page 1.
    f"{API}/alerts": ListCase("clinician", seed_alerts, audited(3)),
    # auth 1 + may the caller see the patient 1 + events page 1 + actor names 1.
    f"{P}/access-log": ListCase("patient", seed_audit_events, audited(4)),
    # auth 1 + events page 1 + actor names 1.
    f"{API}/audit": ListCase("admin", seed_audit_trail, audited(3)),
    # auth 1 + the caller's inbox page 1. Not audited: the caller's own notices.
    f"{API}/me/notifications": ListCase("clinician", seed_notifications, unaudited(2)),
    # auth 1 + endpoints page 1.
    f"{API}/webhooks": ListCase("admin", seed_webhooks, audited(2)),
    # auth 1 + the webhook (not deleted) 1 + deliveries JOIN outbox_events page 1.
    f"{API}/webhooks/<uuid:webhook_id>/deliveries": ListCase(
        "admin", seed_webhook_deliveries, audited(3)
    ),
}


def takes_a_page(rule: Rule, view: Any) -> bool:
    """A GET whose query arguments include `limit` and `cursor` (a `PageQuery`)."""
    if "GET" not in (rule.methods or ()):
        return False
    for parameter in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
        schema = parameter.get("schema")
        declared = getattr(schema, "_declared_fields", {})
        if parameter.get("in") == "query" and {"limit", "cursor"} <= declared.keys():
            return True
    return False


def list_rules(app: Flask) -> dict[str, Rule]:
    return {
        rule.rule: rule
        for rule in app.url_map.iter_rules()
        if takes_a_page(rule, app.view_functions[rule.endpoint])
    }


def test_every_list_route_has_a_budget(app: Flask) -> None:
    found = set(list_rules(app))
    assert found - LIST_BUDGETS.keys() == set(), "list routes without a budget in LIST_BUDGETS"
    assert LIST_BUDGETS.keys() - found == set(), "LIST_BUDGETS names routes that do not list"


def get_page(
    app: Flask, client: FlaskClient, actor: Actor, url: str, **query: Any
) -> tuple[dict[str, Any], Statements]:
    with counting(app) as statements:
        response = client.get(url, headers=actor.headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json(), statements


@pytest.mark.parametrize("rule", sorted(LIST_BUDGETS))
def test_a_list_costs_the_same_at_any_page_size(
    app: Flask, client: FlaskClient, world: Any, rule: str
) -> None:
    case = LIST_BUDGETS[rule]
    actor: Actor = getattr(world, case.actor)
    endpoint = list_rules(app)[rule].endpoint
    url = app.url_map.bind("localhost").build(endpoint, case.seed(app, world))

    one, at_one = get_page(app, client, actor, url, limit=1)
    full, at_max = get_page(app, client, actor, url, limit=MAX_LIMIT)
    assert one["next_cursor"] is not None
    after, at_next = get_page(app, client, actor, url, limit=MAX_LIMIT, cursor=one["next_cursor"])

    assert [len(page["items"]) for page in (one, full, after)] == [1, MAX_LIMIT, MAX_LIMIT]
    assert full["next_cursor"] is not None and after["next_cursor"] is not None
    assert one["items"][0] not in after["items"], "the cursor did not move on"
    listing = f"limit 1: {at_one}\nlimit {MAX_LIMIT}: {at_max}\nnext page: {at_next}"
    assert len(at_one.queries) == len(at_max.queries) == len(at_next.queries), listing
    for statements in (at_one, at_max, at_next):
        assert_authenticated_once(statements)
        assert_within(statements, case.budget, app, f"GET {rule}")


def test_a_session_list_reads_the_histories_only_when_asked_in_one_query_for_the_page(
    app: Flask, client: FlaskClient, world: Any
) -> None:
    url = f"{API}/sessions"
    seed_past_sessions(app, world)
    lean = [get_page(app, client, world.clinician, url, limit=n)[1] for n in (1, MAX_LIMIT)]
    first, _ = get_page(app, client, world.clinician, url, limit=1)
    full = [
        get_page(app, client, world.clinician, url, include="transitions", **query)[1]
        for query in ({"limit": 1}, {"limit": MAX_LIMIT}, {"cursor": first["next_cursor"]})
    ]

    for statements in lean:
        assert statements.touching("session_transitions") == [], str(statements)
    for statements in full:
        assert len(statements.touching("session_transitions")) == 1, str(statements)
        assert len(statements.queries) == len(lean[0].queries) + 1, str(statements)
        assert_within(statements, audited(3), app, "GET /sessions?include=transitions")


# --- single records and writes ----------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """A request ready to send: as whom, where, with what."""

    actor: str
    method: str
    url: str
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RouteCase:
    """How to prepare the request (outside the count), the status it must get, the budget."""

    prepare: Callable[[Flask, FlaskClient, Any], Call]
    status: int
    budget: Budget


def post(client: FlaskClient, actor: Actor, url: str, body: Any, **headers: str) -> Any:
    response = client.post(url, json=body, headers={**actor.headers, **headers})
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def me(_app: Flask, _client: FlaskClient, _world: Any) -> Call:
    return Call("patient", "GET", f"{API}/me")


def submit_mild(_app: Flask, _client: FlaskClient, _world: Any) -> Call:
    body = checkin_body(instruments={"PHQ-9": PHQ9_MILD})
    key = {IDEMPOTENCY_KEY: f"perf-{uuid.uuid4()}"}
    return Call("patient", "POST", f"{API}/checkins", body, key)


def submit_item9(_app: Flask, _client: FlaskClient, _world: Any) -> Call:
    body = checkin_body(instruments={"PHQ-9": PHQ9_ITEM9_ONE})
    key = {IDEMPOTENCY_KEY: f"perf-{uuid.uuid4()}"}
    return Call("patient", "POST", f"{API}/checkins", body, key)


def resubmit(app: Flask, client: FlaskClient, world: Any) -> Call:
    call = submit_mild(app, client, world)
    post(client, world.patient, call.url, call.json, **call.headers)
    return call


def read_checkin(app: Flask, _client: FlaskClient, world: Any) -> Call:
    [checkin_id] = seed_checkins(
        app, world.patient, [utcnow() - timedelta(hours=1)], {"PHQ-9": PHQ9_MILD}
    )
    return Call("clinician", "GET", f"{API}/checkins/{checkin_id}")


def read_outcomes(app: Flask, _client: FlaskClient, world: Any) -> Call:
    """A treatment begun 30 days ago; weekly PHQ-9 and GAD-7 scores around it; no PCL-5."""
    now = utcnow()
    seed_sessions(app, world.patient, world.clinician, 1, first_start=now - timedelta(days=30))
    weekly = [now - timedelta(days=7 * week + 1) for week in range(8)]
    seed_checkins(app, world.patient, weekly, {"PHQ-9": PHQ9_MILD, "GAD-7": GAD7_MODERATE})
    return Call("clinician", "GET", f"{API}/patients/{world.patient.id}/outcomes")


def read_patient(_app: Flask, _client: FlaskClient, world: Any) -> Call:
    return Call("clinician", "GET", f"{API}/patients/{world.patient.id}")


def schedule(_app: Flask, _client: FlaskClient, world: Any) -> Call:
    start = (utcnow() + timedelta(days=10)).replace(hour=13, minute=0, second=0, microsecond=0)
    body = {
        "patient_id": world.patient.id,
        "scheduled_start": start.isoformat(),
        "duration_minutes": 120,
        "modality": "video",
        "treatment_monitor": {"name": "Sam Sitter", "phone": "+1 555 0199"},
    }
    return Call("clinician", "POST", f"{API}/sessions", body)


def read_session(_app: Flask, client: FlaskClient, world: Any) -> Call:
    session_id = schedule_session(client, world.clinician, world.patient)
    return Call("patient", "GET", f"{API}/sessions/{session_id}")


def add_note(_app: Flask, client: FlaskClient, world: Any) -> Call:
    session_id = schedule_session(client, world.clinician, world.patient)
    return Call("clinician", "POST", f"{API}/sessions/{session_id}/notes", note_body())


def read_note(_app: Flask, client: FlaskClient, world: Any) -> Call:
    session_id = schedule_session(client, world.clinician, world.patient)
    note = post(client, world.clinician, f"{API}/sessions/{session_id}/notes", note_body())
    return Call("patient", "GET", f"{API}/notes/{note['id']}")


def acknowledge(_app: Flask, client: FlaskClient, world: Any) -> Call:
    body = checkin_body(instruments={"PHQ-9": PHQ9_ITEM9_ONE})
    [alert] = post(client, world.patient, f"{API}/checkins", body)["alerts"]
    url = f"{API}/alerts/{alert['id']}/acknowledge"
    return Call("clinician", "POST", url, {"note": "Called the patient."})


def overdue_alerts(app: Flask, client: FlaskClient, world: Any) -> Call:
    """A session begun four hours ago with no note: all three checkpoints overdue. Read once
    first, so their alerts exist already, as they do from the second read on."""
    start = utcnow() - timedelta(hours=4)
    seed_sessions(
        app, world.patient, world.clinician, 1, first_start=start, status=SessionStatus.IN_PROGRESS
    )
    response = client.get(f"{API}/alerts", headers=world.clinician.headers)
    kinds = [alert["kind"] for alert in response.get_json()["items"]]
    assert kinds == [AlertKind.CHECKPOINT_OVERDUE.value] * 3, kinds
    return Call("clinician", "GET", f"{API}/alerts")


def every_patients_alerts(app: Flask, _client: FlaskClient, world: Any) -> Call:
    """An admin's oversight list over every patient's alerts (world.patient's seeded ones)."""
    seed_alerts(app, world)
    return Call("admin", "GET", f"{API}/alerts?limit={MAX_LIMIT}")


def one_patients_alerts(app: Flask, _client: FlaskClient, world: Any) -> Call:
    seed_alerts(app, world)
    return Call("clinician", "GET", f"{API}/alerts?patient_id={world.patient.id}&status=all")


def read_schedule(_app: Flask, _client: FlaskClient, world: Any) -> Call:
    return Call("patient", "GET", f"{API}/patients/{world.patient.id}/schedule")


def replace_schedule(_app: Flask, client: FlaskClient, world: Any) -> Call:
    """The default plan's four items, with the current ETag."""
    url = f"{API}/patients/{world.patient.id}/schedule"
    current = client.get(url, headers=world.clinician.headers)
    body = {
        "reminders": True,
        "items": [
            {key: value for key, value in item.items() if value is not None}
            for item in current.get_json()["items"]
        ],
    }
    return Call("clinician", "PUT", url, body, {"If-Match": current.headers["ETag"]})


def due_now(app: Flask, _client: FlaskClient, world: Any) -> Call:
    """The default plan; check-ins with a mood, PHQ-9 and GAD-7 answers in the last days."""
    recent = [utcnow() - timedelta(days=day, hours=1) for day in range(5)]
    seed_checkins(app, world.patient, recent, {"PHQ-9": PHQ9_MILD, "GAD-7": GAD7_MODERATE})
    return Call("patient", "GET", f"{API}/me/due")


# Budgets as in LIST_BUDGETS; "key" is the Idempotency-Key's row.
ROUTE_BUDGETS: dict[str, RouteCase] = {
    # auth 1, and nothing else: not audited, and the user is the authentication's row.
    "GET /me": RouteCase(me, 200, unaudited(1)),
    # auth 1 + claim the key (INSERT … ON CONFLICT DO NOTHING RETURNING) 1 + check-in INSERT 1
    # + score INSERT 1 + deterioration check: the baselines of every instrument answered, the
    # first session's start in a subquery 1 + the `checkin.submitted` event (outbox) 1 + the
    # key's response (UPDATE) 1.
    "POST /checkins (PHQ-9, Idempotency-Key, no alert)": RouteCase(submit_mild, 201, audited(7)),
    # The same + the alert: INSERT … ON CONFLICT DO NOTHING RETURNING the new row 1 + its care
    # team, who are told (`alert.raised`, in the same outbox INSERT as the other event) 1.
    "POST /checkins (PHQ-9 item 9: suicidal-ideation alert)": RouteCase(
        submit_item9, 201, audited(9)
    ),
    # auth 1 + claim the key (taken) 1 + the first answer (SELECT) 1.
    "POST /checkins (replayed Idempotency-Key)": RouteCase(resubmit, 201, audited(3)),
    # auth 1 + the check-in (care-team scoped) joined to its scores 1.
    "GET /checkins/{id}": RouteCase(read_checkin, 200, audited(2)),
    # auth 1 + every score of the patient, all instruments, in order, with the first session's
    # start beside them and the care-team rule in the WHERE 1 (baseline, latest and series
    # computed from it; a patient without scores asks once more whether the caller may see them).
    "GET /patients/{id}/outcomes": RouteCase(read_outcomes, 200, audited(2)),
    # auth 1 + the patient 1 + its care team 1.
    "GET /patients/{id}": RouteCase(read_patient, 200, audited(3)),
    # auth 1 + the patient, locked (care-team scoped) 1 + its care team (selectin) 1
    # + the clinician's row, locked (SELECT users.id FOR UPDATE) 1 + overlap check 1
    # + session INSERT 1 + the `session.scheduled` event (outbox) 1.
    "POST /sessions": RouteCase(schedule, 201, audited(7)),
    # auth 1 + the session (JOIN patients, users) 1 + transitions (selectin) 1.
    "GET /sessions/{id}": RouteCase(read_session, 200, audited(3)),
    # auth 1 + the session 1 + transitions 1 + note INSERT 1.
    "POST /sessions/{id}/notes": RouteCase(add_note, 201, audited(4)),
    # auth 1 + the note 1 + adverse event (selectin) 1 + amendments (selectin) 1.
    "GET /notes/{id}": RouteCase(read_note, 200, audited(4)),
    # auth 1 + the alert, locked 1 + UPDATE 1 + the `alert.acknowledged` event (outbox) 1.
    "POST /alerts/{id}/acknowledge": RouteCase(acknowledge, 200, audited(4)),
    # auth 1 + sweep: recent sessions 1 + their checkpoint notes 1 + the 3 overdue checkpoints'
    # alerts, one INSERT … ON CONFLICT DO NOTHING (all exist already) 1 + alerts page 1.
    "GET /alerts (a recent session, 3 checkpoints overdue)": RouteCase(
        overdue_alerts, 200, audited(5)
    ),
    # auth 1 + sweep: recent sessions of every patient 1 (none here, so it stops) + one keyset
    # page over every patient's alerts 1.
    "GET /alerts (admin, every patient)": RouteCase(every_patients_alerts, 200, audited(3)),
    # auth 1 + may the caller see the patient 1 + sweep 1 + alerts page 1.
    "GET /alerts?patient_id= (clinician)": RouteCase(one_patients_alerts, 200, audited(4)),
    # auth 1 + may the caller see the patient 1 + the plan 1 + its items (selectin) 1.
    "GET /patients/{id}/schedule": RouteCase(read_schedule, 200, audited(4)),
    # auth 1 + the patient (care-team scoped) 1 + its care team (selectin) 1 + the plan, locked
    # 1 + its items (selectin) 1 + the old items DELETE 1 + the plan UPDATE (version) 1 + the new
    # items INSERT 1.
    "PUT /patients/{id}/schedule": RouteCase(replace_schedule, 200, audited(8)),
    # auth 1 + the plan 1 + its items (selectin) 1 + the patient's zone 1 + the latest check-in
    # 1 + the latest answers of each instrument 1. Not a list: one patient's few items.
    "GET /me/due": RouteCase(due_now, 200, audited(6)),
}


@pytest.mark.parametrize("name", list(ROUTE_BUDGETS))
def test_a_request_stays_within_its_budget(
    app: Flask, client: FlaskClient, world: Any, name: str
) -> None:
    case = ROUTE_BUDGETS[name]
    call = case.prepare(app, client, world)
    actor: Actor = getattr(world, call.actor)

    with counting(app) as statements:
        response: TestResponse = client.open(
            call.url,
            method=call.method,
            json=call.json,
            headers={**actor.headers, **call.headers},
        )

    assert response.status_code == case.status, response.get_json()
    assert_authenticated_once(statements)
    assert_within(statements, case.budget, app, name)


@pytest.mark.parametrize("path", ["/me", "/instruments"])
def test_authentication_alone_is_one_query(
    app: Flask, client: FlaskClient, world: Any, path: str
) -> None:
    """GET /me answers with the caller, GET /instruments with constants: neither does anything
    but authenticate, which is one SELECT of the user joined to their token family (an active
    user, a family not revoked), and no other query."""
    with counting(app) as statements:
        response = client.get(f"{API}{path}", headers=world.clinician.headers)

    assert response.status_code == 200
    assert len(statements.queries) == 1, statements
    [query] = statements.queries
    assert query.lstrip().upper().startswith("SELECT"), statements
    assert statements.touching("users") == statements.touching("token_families") == [query]
