"""API fuzzing: schemathesis generates requests for every operation of the served OpenAPI
document, valid and invalid, and checks each answer against that document.

Every check schemathesis has runs: no server errors; documented status codes, content types,
headers and bodies; invalid data refused and valid data accepted (a 422 to valid data only for
rules no JSON Schema can state, `only_unstateable_rules_refused`); required headers enforced;
undocumented methods answered 405 with `Allow`; authentication not ignored; and, along chains
of calls, no resource that vanishes or outlives its deletion. Each operation is fuzzed:

- by the actor whose role uses it (a clinician where the role may, else the patient, else the
  admin) through every phase: the document's examples, the coverage phase (boundary values,
  missing parameters and headers, wrong types, undocumented methods) and random cases;
- by the two other actors, with random cases only, so a role that may not use a route, or may
  not see a record, gets the documented 403 or 404 and nothing else;
- as a step of stateful workflows, following the links schemathesis infers between operations.

Requests go through the app of the `app` fixture (one transaction per test, rolled back after
it) with the bearer token of a `world` user. Identifiers the fuzzer draws are often swapped for
those of real records (a patient, a session, a note, a check-in, an alert), so that requests
reach past the 404 of an unknown id; the swap follows from the drawn id, so a failure replays.
The seed is fixed; `FUZZ_SEED` and `FUZZ_EXAMPLES` explore further.
"""

from __future__ import annotations

import functools
import os
import re
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from schemathesis import Case, CheckContext, Response
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.meta import TestPhase
from schemathesis.schemas import BaseSchema

from config import load_config
from telehealth import create_app
from telehealth.accounts.models import Role
from tests.conftest import World
from tests.factories import Actor, sign_in
from tests.fuzz.fuzz_figures import SENT
from tests.webhooks.helpers import make_delivery, make_webhook, resolver

#: Random cases per operation and actor (the examples and coverage phases add their own);
#: `FUZZ_EXAMPLES=<n>` for a longer run.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
#: A fixed seed: the same cases every run, so a red run replays and a green one stays green.
#: `FUZZ_SEED=<n>` explores other cases.
SEED = int(os.environ.get("FUZZ_SEED", "20261121"))
ACTORS = ("clinician", "patient", "admin")

CHECKS: dict[str, Any] = {
    # The contract answers a missing If-Match with 428 Precondition Required. A request refused
    # before its headers are read (a body over the size limit, 413; a URL over the length
    # limit, 414) is refused so whatever headers it lacks.
    "missing_required_header": {
        "expected-statuses": ["400", "401", "403", "406", "413", "414", "415", "422", "428"]
    },
    # A well-formed request may still meet the record's state: a conflict (409) or a stale
    # If-Match (412); or break a rule no JSON Schema can state (422), which
    # `only_unstateable_rules_refused` below narrows to those rules.
    "positive_data_acceptance": {
        "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429"]
    },
}


def _load(phases: dict[str, Any]) -> BaseSchema:
    """The document as the app serves it (rendering it needs no database)."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": FUZZ_EXAMPLES, "database": "none"},
            "checks": CHECKS,
            "phases": phases,
        }
    )
    return schemathesis.openapi.from_wsgi("/openapi.json", SPEC_APP, config=config)


SPEC_APP = create_app(load_config("test", DATABASE_URL="sqlite://"))
EVERY_PHASE = _load({})
RANDOM_ONLY = _load({"examples": {"enabled": False}, "coverage": {"enabled": False}})


@functools.cache
def primary_actor(method: str, path: str) -> str:
    """The actor who fuzzes an operation through every phase: one whose role may use it."""
    concrete = re.sub(r"\{[^}]+\}", str(uuid.UUID(int=1)), path)
    endpoint, _ = SPEC_APP.url_map.bind("localhost").match(concrete, method=method.upper())
    roles = getattr(SPEC_APP.view_functions[endpoint], "allowed_roles", ())
    return next(name for name in ACTORS if not roles or Role(name) in roles)


@dataclass
class Records:
    """Real records for the fuzzer to aim at, by the name of the parameter that holds them;
    the first of each is one every actor may see (where its role may see such records)."""

    ids: dict[str, list[str]]

    def realize(self, name: str, value: Any, *, visible: bool = False) -> Any:
        """`value`, or (when it is a UUID drawn for an id we hold) one of our records."""
        pool = self.ids.get(name)
        if not pool or not isinstance(value, str):
            return value
        try:
            drawn = uuid.UUID(value)
        except ValueError:
            return value
        index = 0 if visible else drawn.int % (len(pool) + 1)
        return pool[index] if index < len(pool) else value


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Webhook URLs the fuzzer draws are judged without asking DNS (IP literals and localhost
    only; other names do not resolve), so the same URL always gets the same answer."""
    monkeypatch.setattr("telehealth.webhooks.urls.getaddrinfo", resolver())


def _post(client: FlaskClient, actor: Actor, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(url, json=body, headers=actor.headers)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def fuzz_records(client: FlaskClient, world: World) -> Records:
    """A scheduled session of `world.patient` with a note, and a check-in that raised alerts."""
    now = datetime.now(UTC)
    session = _post(
        client,
        world.clinician,
        "/api/v1/sessions",
        {
            "patient_id": world.patient.id,
            # Soon: the session's day is open, so the note below may be observed now.
            "scheduled_start": (now + timedelta(minutes=30)).isoformat(),
            "duration_minutes": 120,
            "modality": "video",
            "treatment_monitor": {"name": "Sam Sitter", "phone": "+1 555 0101"},
        },
    )
    note = _post(
        client,
        world.clinician,
        f"/api/v1/sessions/{session['id']}/notes",
        {"observed_at": now.isoformat(), "text": "Calm, oriented."},
    )
    checkin = _post(
        client,
        world.patient,
        "/api/v1/checkins",
        {
            "recorded_at": now.isoformat(),
            "mood": 3,
            "instruments": {"PHQ-9": [2, 2, 2, 2, 2, 2, 2, 2, 1]},
        },
    )
    clinicians = [world.clinician.id, world.other_clinician.id, world.lone_clinician.id]
    # A webhook to a loopback port nobody listens on, with a delivery: the worker does not
    # run in tests, so nothing is sent, whatever the fuzzer registers or retries.
    webhook_id, _ = make_webhook(client.application, "http://127.0.0.1:9/hook")
    return Records(
        {
            "patient_id": [world.patient.id, world.other_patient.id],
            "clinician_id": clinicians,
            "actor_id": clinicians,
            "user_id": [world.lone_clinician.id, world.other_patient.id, world.admin.id],
            "session_id": [session["id"]],
            "note_id": [note["id"]],
            "checkin_id": [checkin["id"]],
            "alert_id": [alert["id"] for alert in checkin["alerts"]],
            "webhook_id": [str(webhook_id)],
            "delivery_id": [make_delivery(client.application, webhook_id)],
        }
    )


def _aim(case: Case, records: Records) -> None:
    """Point drawn ids at real records. The coverage phase's probes (a missing header, a value
    at a boundary) always aim at a record the actor may see: they test the request's shape,
    which an unknown id would hide behind a 404."""
    visible = case.meta is not None and case.meta.phase.name == TestPhase.COVERAGE
    for container in (case.path_parameters, case.query):
        for name, value in list((container or {}).items()):
            aimed = records.realize(name, value, visible=visible)
            if aimed != value:
                container[name] = aimed
    if isinstance(case.body, dict):
        for name in ("patient_id", "session_id", "clinician_id"):
            if name in case.body:
                aimed = records.realize(name, case.body[name], visible=visible)
                if aimed != case.body[name]:
                    case.body[name] = aimed


#: Rules the service checks that no JSON Schema can state, by operation: the fields a 422 may
#: name in answer to a request the document calls valid. Besides these, any date-time: the
#: service refuses times at the ends of the calendar, times of what happened that lie in the
#: future (a check-in, a note, the medication), sessions in the past or over a year ahead,
#: check-ins older than the days a late one is accepted, and observations before a session's
#: day or outside a checkpoint's window.
UNSTATEABLE_RULES: dict[str, set[str]] = {
    # A date of birth from 1900-01-01 to today; an active clinician, whom an admin must name.
    "POST /api/v1/patients": {"date_of_birth", "clinician_id"},
    "PATCH /api/v1/patients/{patient_id}": {"date_of_birth"},
    # The systolic pressure above the diastolic; +40 min and end-of-session count from the
    # medication, so they cannot be recorded before it.
    "POST /api/v1/sessions/{session_id}/notes": {"vitals.systolic", "checkpoint"},
    # One of the patient's own sessions; an Idempotency-Key used before for another body.
    "POST /api/v1/checkins": {"session_id", "Idempotency-Key"},
    # An http(s) URL whose host resolves to addresses webhooks may reach (SSRF rules).
    "POST /api/v1/webhooks": {"url"},
    # Each item at most once; a weekday for a weekly item and a day for a monthly one, and
    # neither for another.
    "PUT /api/v1/patients/{patient_id}/schedule": {"items"},
    # The caller's own current password, which only they know.
    "POST /api/v1/me/password": {"current_password"},
}


@functools.cache
def _document() -> dict[str, Any]:
    return SPEC_APP.test_client().get("/openapi.json").get_json()  # type: ignore[no-any-return]


def _resolve(document: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in item:
        return item
    section, name = item["$ref"].split("/")[-2:]
    return document["components"][section][name]  # type: ignore[no-any-return]


@functools.cache
def date_time_fields(method: str, path: str) -> frozenset[str]:
    """The operation's date-time fields, in its query and (dotted) body."""
    document = _document()
    operation = document["paths"][path][method.lower()]
    found = {
        p["name"]
        for p in operation.get("parameters", [])
        if p["in"] == "query" and p["schema"].get("format") == "date-time"
    }

    def walk(schema: dict[str, Any], prefix: str) -> None:
        for part in [schema, *schema.get("allOf", []), *schema.get("anyOf", [])]:
            if "$ref" in part:
                walk(_resolve(document, part), prefix)
            for name, child in part.get("properties", {}).items():
                if child.get("format") == "date-time":
                    found.add(prefix + name)
                walk(child, f"{prefix}{name}.")

    for media in operation.get("requestBody", {}).get("content", {}).values():
        walk(media["schema"], "")
    return frozenset(found)


def only_unstateable_rules_refused(ctx: CheckContext, response: Response, case: Case) -> None:
    """A 422 to a request the document calls valid names only rules it cannot state: the
    operation's own (above) and, for lists, a cursor that is not one of this list's."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return
    allowed = UNSTATEABLE_RULES.get(case.operation.label, set()) | date_time_fields(
        case.operation.method, case.operation.path
    )
    if any(p.name == "cursor" for p in case.operation.iter_parameters()):
        allowed.add("cursor")
    named = set((response.json() or {}).get("errors") or {})
    unexpected = {n for n in named if not any(n == f or n.startswith(f"{f}.") for f in allowed)}
    assert named and not unexpected, (
        f"A valid request was refused for {sorted(unexpected) or 'no named field'}: "
        "the document should state the rule"
    )


def _send(case: Case, app: Flask, actor: Actor) -> None:
    """Send the case as `actor` and run every check on the answer.

    The bearer token the fuzzer drew becomes the actor's; a case without one, or with a
    malformed one (negative cases, the coverage phase's missing-header probe), goes as drawn,
    to be refused with 401. Sign-out and refresh spend their token: a fresh pair each time."""
    _authorize(case, app, actor)
    _current_etag(case, app, actor)
    SENT[f"{case.operation.method.upper()} {case.operation.path}"] += 1
    case.call_and_validate(app=app, additional_checks=[only_unstateable_rules_refused])


def _authorize(case: Case, app: Flask, actor: Actor) -> None:
    drawn = (case.headers or {}).get("Authorization")
    if isinstance(drawn, str) and drawn.lower().startswith("bearer "):
        token = actor.access_token
        if case.path.endswith(("/auth/logout", "/auth/refresh")):
            fresh = sign_in(app, actor.user)
            token = fresh.refresh_token if case.path.endswith("/refresh") else fresh.access_token
        case.headers["Authorization"] = f"Bearer {token}"


def _current_etag(case: Case, app: Flask, actor: Actor) -> None:
    """Half the drawn ETags become the record's current one, read as `actor` (`*` is no
    precondition, 428), so an edit can go through; the other half stay stale (412)."""
    if_match = (case.headers or {}).get("If-Match")
    if not (isinstance(if_match, str) and if_match and zlib.crc32(if_match.encode()) % 2):
        return
    read = app.test_client().get(case.formatted_path, headers=actor.headers)
    if read.status_code == 200 and "ETag" in read.headers:
        case.headers["If-Match"] = read.headers["ETag"]


# One world and one transaction for all of an operation's cases, on purpose.
SHARED_FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@EVERY_PHASE.parametrize()
@SHARED_FIXTURES
def test_fuzz_every_phase_as_its_role(
    case: Case, app: Flask, world: World, fuzz_records: Records
) -> None:
    _aim(case, fuzz_records)
    _send(case, app, getattr(world, primary_actor(case.operation.method, case.operation.path)))


@RANDOM_ONLY.parametrize()
@SHARED_FIXTURES
def test_fuzz_random_cases_as_other_roles(
    case: Case, app: Flask, world: World, fuzz_records: Records
) -> None:
    _aim(case, fuzz_records)
    primary = primary_actor(case.operation.method, case.operation.path)
    for name in ACTORS:
        if name != primary:
            _send(case, app, getattr(world, name))


def test_fuzz_stateful_workflows(app: Flask, world: World, fuzz_records: Records) -> None:
    """Chains of calls along the links schemathesis infers (an id one answer names, used in
    the next request), as a clinician: resources created, read, changed, read again."""
    workflow = EVERY_PHASE.as_state_machine()

    class ClinicianWorkflow(workflow):
        def before_call(self, case: Case) -> None:
            _aim(case, fuzz_records)
            _authorize(case, app, world.clinician)
            _current_etag(case, app, world.clinician)
            SENT[f"{case.operation.method.upper()} {case.operation.path}"] += 1

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"app": app}

    ClinicianWorkflow.run(
        settings=settings(
            max_examples=8,
            stateful_step_count=8,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )


def test_fuzz_document_is_the_served_one(client: FlaskClient) -> None:
    """The document fuzzed above is the one the app under test serves."""
    assert client.get("/openapi.json").get_json() == _document()


#: Path parameters that name no record: a calendar feed's secret, the credential in its URL
#: (any value but a live one is 404, which the fuzzing above checks like any other answer).
NOT_IDS = {("/api/v1/calendar/feeds/{secret}.ics", "secret")}


def test_fuzz_document_types_ids_and_errors() -> None:
    """What the fuzzing relies on: ids typed as UUIDs, and every error a documented problem."""
    document = _document()
    for path, item in document["paths"].items():
        for parameter in item.get("parameters", []):
            if parameter["in"] == "path" and (path, parameter["name"]) not in NOT_IDS:
                assert parameter["schema"] == {"type": "string", "format": "uuid"}, path
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            assert "default" not in responses, (method, path)
            for status, response in responses.items():
                response = _resolve(document, response)
                assert "X-Request-ID" in response.get("headers", {}), (method, path, status)
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"]
                if status == "204":
                    assert "content" not in response, (method, path)
