"""Every route under /api/v1 that touches a patient's record is audited, checked against the
app's own URL map, so a route added without `@audited` fails here.

The static part reads the map: each rule is either in NOT_PHI or its view carries the
`audit_action` that `@audited` sets. The dynamic part calls every audited rule and method with a
concrete URL built from a small world of records, once as an allowed actor, once as a refused
one, and once without a token (where one is needed), and checks that each call added exactly
one audit event with the view's action and the outcome its status means.

Each call runs inside a savepoint of the test's connection that is rolled back after it, so the
calls cannot disturb one another (a logout, a cancelled session, a deactivated user).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule

from telehealth.accounts import service as accounts
from telehealth.audit.models import AuditEvent
from telehealth.extensions import db
from tests.factories import PASSWORD, Actor
from tests.passwords.password_helpers import reset_token
from tests.record_rights.rights_helpers import (
    API,
    MONITOR,
    Records,
    make_records,
    random_id,
    rfc3339,
)

PREFIX = f"{API}/"
# Routes under /api/v1 that read or change no patient's record, so need no audit event. Keep
# this short: every entry is a route whose reads nobody has to be able to account for.
NOT_PHI: dict[tuple[str, str], str] = {
    # The caller's own account (name, email, role): nothing of any patient's record.
    (f"{API}/me", "GET"): "own account",
    # The caller's own inbox: notices with identifiers and the kind of alert, no record content.
    (f"{API}/me/notifications", "GET"): "own notices",
    (f"{API}/me/notifications/<uuid:notification_id>/read", "POST"): "own notices",
    # Questionnaire definitions (item text, ranges, bands): the same for everyone.
    (f"{API}/instruments", "GET"): "reference data",
    # The admins' list of clinician accounts: staff, not patients.
    (f"{API}/clinicians", "GET"): "staff directory",
}
# Sign-in routes (login, refresh, logout, activate) are audited as well, so they are not here.

# URL arguments that name one of the patient's records: an allowed call must leave an event
# that names world.patient, so that the patient's access log shows it.
PATIENT_ARGS = {"patient_id", "session_id", "note_id", "checkin_id", "alert_id"}
# Routes that learn the patient from the body or the caller instead.
PATIENT_FROM_BODY = {"sessions.schedule_session", "checkins.submit_checkin", "schedules.due_now"}


def api_routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    rules = sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))
    for rule in rules:
        if rule.rule.startswith(PREFIX):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield rule, method


def audit_action(app: Flask, rule: Rule) -> str | None:
    return getattr(app.view_functions[rule.endpoint], "audit_action", None)


def audited_routes(app: Flask) -> list[tuple[Rule, str]]:
    return [(rule, method) for rule, method in api_routes(app) if audit_action(app, rule)]


# --- the map ----------------------------------------------------------------------------------


def test_every_api_route_is_audited_or_named_as_not_touching_patient_data(app):
    unaccounted = [
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule, method in api_routes(app)
        if (rule.rule, method) not in NOT_PHI and audit_action(app, rule) is None
    ]

    assert unaccounted == [], "add @audited(...) under the route decorator, or justify in NOT_PHI"


def test_the_not_phi_list_names_only_routes_that_exist_and_are_not_audited(app):
    routes = {(rule.rule, method): rule for rule, method in api_routes(app)}

    for key in NOT_PHI:
        assert key in routes, f"{key} is no longer a route: drop it from NOT_PHI"
        assert audit_action(app, routes[key]) is None, f"{key} is audited: drop it from NOT_PHI"


def test_most_api_routes_are_audited(app):
    """Guards the check above against a map it cannot see (a prefix typo would pass it)."""
    assert len(audited_routes(app)) >= 30
    assert len(list(api_routes(app))) == len(audited_routes(app)) + len(NOT_PHI)


def test_each_audited_route_has_its_own_action(app):
    actions = [audit_action(app, rule) for rule, _method in audited_routes(app)]

    assert len(actions) == len(set(actions))
    assert all(isinstance(action, str) and "." in action for action in actions)


# --- calling every audited route --------------------------------------------------------------


@dataclass
class World:
    app: Flask
    client: FlaskClient
    people: Any
    records: Records

    def actor(self, name: str) -> Actor:
        return getattr(self.people, name)  # type: ignore[no-any-return]


@dataclass
class Call:
    """One request: who makes it (None: nobody signed in), its body and extra headers, and the
    status a refusal must get (an allowed call must get some 2xx)."""

    actor: str | None
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    bearer: str | None = None

    def request_headers(self, world: World) -> dict[str, str]:
        headers = dict(self.headers)
        if self.bearer is not None:
            headers["Authorization"] = f"Bearer {self.bearer}"
        elif self.actor is not None:
            headers.update(world.actor(self.actor).headers)
        return headers


URL_ARGS: dict[str, Callable[[World], str]] = {
    "patient_id": lambda w: w.actor("patient").id,
    "session_id": lambda w: w.records.session_id,
    "note_id": lambda w: w.records.note_id,
    "checkin_id": lambda w: w.records.checkin_id,
    "alert_id": lambda w: w.records.alert_id,
    "clinician_id": lambda w: w.actor("lone_clinician").id,
    "user_id": lambda w: w.actor("lone_clinician").id,
    "webhook_id": lambda w: w.records.webhook_id,
    "delivery_id": lambda w: w.records.delivery_id,
    "secret": lambda w: feed_secret(w),
}


# A check-in plan: the daily mood at 09:00 in the patient's zone.
PLAN_BODY = {"reminders": True, "items": [{"instrument": "mood", "every": "day", "at": "09:00"}]}

# A webhook to a loopback port nobody listens on (nothing is sent in tests anyway).
WEBHOOK_BODY = {"url": "http://127.0.0.1:9/hook", "events": ["*"]}


def minute_ago() -> str:
    return rfc3339(datetime.now(UTC) - timedelta(minutes=1))


def patient_body() -> dict[str, Any]:
    return {
        "email": f"new-{random_id()[:8]}@example.test",
        "name": "Nia New",
        "date_of_birth": "1990-05-06",
        "timezone": "Europe/Paris",
        "emergency_contact": {"name": "Em Contact", "phone": "+33 1 23 45 67 89"},
    }


def session_body(w: World) -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=21)
    return {
        "patient_id": w.actor("patient").id,
        "scheduled_start": rfc3339(start),
        "duration_minutes": 60,
        "modality": "phone",
        "treatment_monitor": MONITOR,
    }


def etag(w: World, url: str) -> dict[str, str]:
    response = w.client.get(url, headers=w.actor("clinician").headers)
    assert response.status_code == 200
    return {"If-Match": response.headers["ETag"]}


def invitation_token(w: World) -> str:
    with w.app.app_context(), db.begin() as session:
        return accounts.create_clinician(
            session, email=f"invited-{random_id()[:8]}@example.test", name="Dr. Ivy Invited"
        ).invitation_token


def start_session(w: World) -> None:
    url = f"{API}/sessions/{w.records.session_id}/start"
    response = w.client.post(url, json={}, headers=w.actor("clinician").headers)
    assert response.status_code == 200


def feed_secret(w: World) -> str:
    """The secret of a calendar feed URL the clinician subscribes to now."""
    response = w.client.post(f"{API}/calendar/subscription", headers=w.actor("clinician").headers)
    assert response.status_code == 201
    return str(response.get_json()["url"]).rsplit("/", 1)[-1].removesuffix(".ics")


def revoke_feed(w: World) -> None:
    response = w.client.delete(f"{API}/calendar/subscription", headers=w.actor("clinician").headers)
    assert response.status_code == 204


def add_lone_clinician(w: World) -> None:
    url = f"{API}/patients/{w.actor('patient').id}/care-team/{w.actor('lone_clinician').id}"
    assert w.client.put(url, headers=w.actor("clinician").headers).status_code == 200


# How to call each route successfully. Each entry runs its preparations (ETags, a started
# session, an invitation) before the audit events are counted.
ALLOWED: dict[str, Callable[[World], Call]] = {
    "alerts.list_alerts": lambda w: Call("clinician"),
    "alerts.acknowledge_alert": lambda w: Call("clinician", {"note": "Called the patient."}),
    "audit.access_log": lambda w: Call("patient"),
    "audit.audit_trail": lambda w: Call("admin"),
    # The feed URL is opened by its secret alone, as calendar apps fetch it.
    "calendar.get_subscribed_calendar_feed": lambda w: Call(None),
    "calendar.create_calendar_subscription": lambda w: Call("clinician", {}),
    "calendar.revoke_calendar_subscription": lambda w: Call("clinician"),
    "auth.activate": lambda w: Call(None, {"token": invitation_token(w), "password": PASSWORD}),
    "auth.login": lambda w: Call(
        None, {"email": w.actor("patient").user.email, "password": PASSWORD}
    ),
    "auth.logout": lambda w: Call("patient"),
    "auth.refresh": lambda w: Call("patient", bearer=w.actor("patient").refresh_token),
    "checkins.get_checkin": lambda w: Call("patient"),
    "checkins.list_checkins": lambda w: Call("clinician"),
    "checkins.patient_outcomes": lambda w: Call("patient"),
    "checkins.submit_checkin": lambda w: Call("patient", {"recorded_at": minute_ago(), "mood": 6}),
    "clinicians.create_clinician": lambda w: Call(
        "admin", {"email": f"dr-{random_id()[:8]}@example.test", "name": "Dr. New"}
    ),
    "clinicians.deactivate_user": lambda w: Call("admin"),
    "export.export_record": lambda w: Call("admin"),
    "monitoring.add_note": lambda w: Call(
        "clinician", {"observed_at": minute_ago(), "text": "Resting."}
    ),
    "monitoring.amend_note": lambda w: Call(
        "clinician", {"text": "Resting quietly.", "reason": "More precise."}
    ),
    "monitoring.get_note": lambda w: Call("patient"),
    "monitoring.list_notes": lambda w: Call("patient"),
    "monitoring.session_timeline": lambda w: Call("clinician"),
    "monitoring.sign_note": lambda w: Call("clinician", {}),
    "passwords.change_password": lambda w: Call(
        "patient", {"current_password": PASSWORD, "new_password": "a brand new passphrase 7"}
    ),
    "passwords.request_password_reset": lambda w: Call(
        None, {"email": w.actor("patient").user.email}
    ),
    "passwords.reset_password": lambda w: Call(
        None, {"token": reset_token(w.app, w.actor("patient").id), "password": PASSWORD}
    ),
    "patients.add_care_team_member": lambda w: Call("clinician"),
    "patients.create_patient": lambda w: Call("clinician", patient_body()),
    "patients.get_patient": lambda w: Call("patient"),
    "patients.list_patients": lambda w: Call("admin"),
    "patients.remove_care_team_member": lambda w: (add_lone_clinician(w), Call("admin"))[1],
    "patients.update_patient": lambda w: Call(
        "clinician",
        {"name": "Pat Renamed"},
        headers=etag(w, f"{API}/patients/{w.actor('patient').id}"),
    ),
    "schedules.due_now": lambda w: Call("patient"),
    "schedules.get_schedule": lambda w: Call("patient"),
    "schedules.replace_schedule": lambda w: Call("clinician", PLAN_BODY),
    "sessions.calendar_feed": lambda w: Call("clinician"),
    "sessions.cancel_session": lambda w: Call("clinician", {"reason": "Unwell."}),
    # The records' note is unsigned, so completing it takes a reason.
    "sessions.complete_session": lambda w: (
        start_session(w),
        Call("clinician", {"reason": "Ended early."}),
    )[1],
    "sessions.get_session": lambda w: Call("clinician"),
    "sessions.list_sessions": lambda w: Call("patient"),
    "sessions.mark_no_show": lambda w: Call("clinician", {}),
    "sessions.medication_taken": lambda w: (start_session(w), Call("patient", {}))[1],
    "sessions.schedule_session": lambda w: Call("clinician", session_body(w)),
    "sessions.start_session": lambda w: Call("clinician", {}),
    "sessions.update_session": lambda w: Call(
        "clinician",
        {"notes": "Bring water."},
        headers=etag(w, f"{API}/sessions/{w.records.session_id}"),
    ),
    "webhooks.create_webhook": lambda w: Call("admin", WEBHOOK_BODY),
    "webhooks.list_webhooks": lambda w: Call("admin"),
    "webhooks.delete_webhook": lambda w: Call("admin"),
    "webhooks.list_webhook_deliveries": lambda w: Call("admin"),
    "webhooks.retry_webhook_delivery": lambda w: Call("admin"),
}


def refused(actor: str, status: int, body: Any = None) -> Callable[[World], Call]:
    return lambda w: Call(actor, body, status=status)


# How each route refuses someone: a role that may never use it (403), or someone who may not
# see this patient's record (404, as for a record that does not exist). Routes not listed are
# refused without a token (401).
REFUSED: dict[str, Callable[[World], Call]] = {
    "alerts.list_alerts": refused("patient", 403),
    "alerts.acknowledge_alert": refused("other_clinician", 404, {}),
    "audit.access_log": refused("other_patient", 404),
    "audit.audit_trail": refused("clinician", 403),
    "calendar.get_subscribed_calendar_feed": lambda w: (revoke_feed(w), Call(None, status=404))[1],
    "calendar.create_calendar_subscription": refused("patient", 403, {}),
    "calendar.revoke_calendar_subscription": refused("admin", 403),
    "auth.activate": lambda w: Call(None, {"token": "x" * 43, "password": PASSWORD}, status=401),
    "auth.login": lambda w: Call(
        None, {"email": w.actor("patient").user.email, "password": "wrong " * 3}, status=401
    ),
    "checkins.get_checkin": refused("other_patient", 404),
    "checkins.list_checkins": refused("other_clinician", 404),
    "checkins.patient_outcomes": refused("lone_clinician", 404),
    "checkins.submit_checkin": lambda w: Call(
        "clinician", {"recorded_at": minute_ago(), "mood": 6}, status=403
    ),
    "clinicians.create_clinician": refused("clinician", 403, {"email": "a@b.test", "name": "A"}),
    "clinicians.deactivate_user": refused("patient", 403),
    "export.export_record": refused("other_patient", 404),
    "monitoring.add_note": lambda w: Call(
        "other_clinician", {"observed_at": minute_ago(), "text": "x"}, status=404
    ),
    "monitoring.amend_note": refused("other_clinician", 404, {"text": "x", "reason": "y"}),
    "monitoring.get_note": refused("other_patient", 404),
    "monitoring.list_notes": refused("other_patient", 404),
    "monitoring.session_timeline": refused("other_patient", 404),
    "monitoring.sign_note": refused("lone_clinician", 404, {}),
    "passwords.change_password": refused(
        "patient", 422, {"current_password": "a wrong guess!", "new_password": "x" * 20}
    ),
    "passwords.request_password_reset": lambda w: Call(None, {"email": "not an email"}, status=422),
    "passwords.reset_password": lambda w: Call(
        None, {"token": "x" * 43, "password": PASSWORD}, status=401
    ),
    "patients.add_care_team_member": refused("other_clinician", 404),
    "patients.create_patient": lambda w: Call("patient", patient_body(), status=403),
    "patients.get_patient": refused("other_patient", 404),
    "patients.list_patients": refused("patient", 403),
    "patients.remove_care_team_member": refused("other_clinician", 404),
    "patients.update_patient": lambda w: Call(
        "other_clinician",
        {"name": "Pat Renamed"},
        headers=etag(w, f"{API}/patients/{w.actor('patient').id}"),
        status=404,
    ),
    "schedules.due_now": refused("clinician", 403),
    "schedules.get_schedule": refused("other_patient", 404),
    "schedules.replace_schedule": refused("patient", 403, PLAN_BODY),
    "sessions.calendar_feed": refused("patient", 403),
    "sessions.cancel_session": refused("other_clinician", 404, {"reason": "Unwell."}),
    "sessions.complete_session": refused("other_clinician", 404, {}),
    "sessions.get_session": refused("other_patient", 404),
    "sessions.list_sessions": refused("admin", 403),
    "sessions.mark_no_show": refused("other_clinician", 404, {}),
    "sessions.medication_taken": refused("other_patient", 404, {}),
    "sessions.schedule_session": lambda w: Call("lone_clinician", session_body(w), status=404),
    "sessions.start_session": refused("other_clinician", 404, {}),
    "sessions.update_session": lambda w: Call(
        "other_clinician",
        {"notes": "Bring water."},
        headers=etag(w, f"{API}/sessions/{w.records.session_id}"),
        status=404,
    ),
    "webhooks.create_webhook": refused("clinician", 403, WEBHOOK_BODY),
    "webhooks.list_webhooks": refused("patient", 403),
    "webhooks.delete_webhook": refused("clinician", 403),
    "webhooks.list_webhook_deliveries": refused("clinician", 403),
    "webhooks.retry_webhook_delivery": refused("patient", 403),
}


def anonymous(w: World) -> Call:
    return Call(None, status=401)


@contextmanager
def rolled_back(app: Flask) -> Iterator[None]:
    """A savepoint on the test's one connection, rolled back after the block."""
    connection = app.extensions["database"]["factory"].kw["bind"]
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


def last_sequence(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.max(AuditEvent.sequence))) or 0)


def events_after(app: Flask, sequence: int) -> list[AuditEvent]:
    with app.app_context():
        statement = select(AuditEvent).where(
            (AuditEvent.sequence > sequence) | AuditEvent.sequence.is_(None)
        )
        return list(db.session.scalars(statement))


def expected_outcome(status: int) -> str:
    if status < 400:
        return "success"
    return "denied" if status in (401, 403, 404) else "failed"


def call_once(w: World, rule: Rule, method: str, variant: str) -> list[str]:
    """Make one call of `variant` (allowed, refused, anonymous) and return what went wrong."""
    action = audit_action(w.app, rule)
    label = f"{variant} {method} {rule.rule}"
    known = rule.endpoint in ALLOWED
    specs = {
        "allowed": ALLOWED.get(rule.endpoint, lambda w: Call("clinician", {})),
        "refused": REFUSED.get(rule.endpoint, anonymous),
        "anonymous": anonymous,
    }
    missing = sorted(set(rule.arguments) - set(URL_ARGS))
    if missing:
        return [f"{label}: no value for URL arguments {missing}; add them to URL_ARGS"]
    values = {name: URL_ARGS[name](w) for name in rule.arguments}
    url = w.app.url_map.bind("localhost").build(rule.endpoint, values, method=method)

    call = specs[variant](w)
    before = last_sequence(w.app)
    response = w.client.open(
        url, method=method, json=call.json, headers=call.request_headers(w), buffered=True
    )
    status, text = response.status_code, response.get_data(as_text=True)
    response.close()
    events = events_after(w.app, before)

    problems = []
    if len(events) != 1:
        return [f"{label}: {status}, {len(events)} audit events instead of 1"]
    [event] = events
    if variant == "allowed" and known and not 200 <= status < 300:
        problems.append(f"{label}: expected 2xx, got {status} {text}")
    if variant != "allowed" and status != call.status:
        problems.append(f"{label}: expected {call.status}, got {status}")
    if (event.action, event.status_code) != (action, status):
        problems.append(f"{label}: event {event.action} {event.status_code}, not {action} {status}")
    if event.outcome != expected_outcome(status):
        problems.append(f"{label}: {status} recorded as {event.outcome}")
    if event.sequence is None or event.hash is None:
        problems.append(f"{label}: the event is outside the hash chain")
    if (
        call.actor is not None
        and call.bearer is None
        and str(event.actor_id) != w.actor(call.actor).id
    ):
        problems.append(f"{label}: actor {event.actor_id}, not {call.actor}")
    if call.actor is None and variant != "allowed" and event.actor_id is not None:
        problems.append(f"{label}: a refused anonymous call recorded actor {event.actor_id}")
    names_patient = "patient_id" in rule.arguments or (
        variant == "allowed"
        and (rule.arguments & PATIENT_ARGS or rule.endpoint in PATIENT_FROM_BODY)
    )
    if names_patient and str(event.patient_id) != w.actor("patient").id:
        problems.append(f"{label}: the event names patient {event.patient_id}, not the patient")
    return problems


@pytest.fixture
def phi_world(app: Flask, client: FlaskClient, world: Any) -> World:
    return World(app, client, world, make_records(client, world.clinician, world.patient))


def run_every_audited_route(phi_world: World, variant: str) -> None:
    problems: list[str] = []
    routes = audited_routes(phi_world.app)
    for rule, method in routes:
        view = phi_world.app.view_functions[rule.endpoint]
        if variant == "anonymous" and not hasattr(view, "allowed_roles"):
            continue  # a public route (login, activate): its refusal is the "refused" call
        with rolled_back(phi_world.app):
            problems.extend(call_once(phi_world, rule, method, variant))
    assert problems == [], "\n".join(problems)


def test_an_allowed_call_of_every_audited_route_leaves_one_success_event(phi_world):
    run_every_audited_route(phi_world, "allowed")


def test_a_refused_call_of_every_audited_route_leaves_one_denied_event(phi_world):
    run_every_audited_route(phi_world, "refused")


def test_a_call_without_a_token_of_every_audited_route_leaves_one_denied_event(phi_world):
    run_every_audited_route(phi_world, "anonymous")


def test_every_audited_route_knows_how_to_be_called(app):
    """New routes need an entry in ALLOWED and REFUSED to be called meaningfully above."""
    endpoints = {rule.endpoint for rule, _method in audited_routes(app)}

    assert endpoints - set(ALLOWED) == set()
    assert endpoints - set(REFUSED) <= {"auth.logout", "auth.refresh"}
    assert set(ALLOWED) - endpoints == set(), "ALLOWED names routes that no longer exist"
    assert set(REFUSED) - endpoints == set(), "REFUSED names routes that no longer exist"


def test_the_calls_leave_the_world_as_it_was(app, phi_world):
    """The savepoints really roll each call back: logout, deactivation and cancellation of the
    calls above do not leak into the next one."""
    for rule, method in audited_routes(app):
        if rule.endpoint in {"auth.logout", "clinicians.deactivate_user"}:
            with rolled_back(app):
                assert call_once(phi_world, rule, method, "allowed") == []
    client = phi_world.client
    assert client.get(f"{API}/me", headers=phi_world.actor("patient").headers).status_code == 200
    lone = phi_world.actor("lone_clinician")
    assert client.get(f"{API}/me", headers=lone.headers).status_code == 200
