"""Authorization matrix, generated from the app's URL map: every route x every actor of the
fixture world x an own and a foreign record, checked against POLICY, the api-contract's Roles
and Resources tables written down route by route.

A route missing from POLICY fails (a new route must say who may use it), and so does a POLICY
entry for a route that is gone. Each cell must get what POLICY requires:

- allowed: a 2xx, or a non-auth 4xx (409, 412, 422, 428) where the minimal body cannot do
  better; never 401, 403, 404 or a 5xx;
- a role the route never allows: 403 (401 without a token);
- an allowed role but a record out of reach: 404, with the very body a random id gets.

Scoped routes are called on world.patient's records and, mirrored, on world.other_patient's
(their session, note, check-in and alert), so every actor meets both an own and a foreign
record. A cell leaks when it lets through what was to be refused, answers a foreign record
otherwise than a missing one, or when any answer carries data of a patient the caller does
not reach. Each call runs in a savepoint rolled back after it (as in
tests/record_rights/test_phi_routes_audited.py, whose helpers this reuses), so logouts,
deactivations and cancellations cannot disturb later cells.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from telehealth.accounts.models import Role
from tests.authz.authz_policy import (
    ACTORS,
    ADMIN,
    ANONYMOUS,
    ANY_USER,
    CARE_TEAM,
    CLINICIAN,
    OWNERS,
    PATIENT,
    PUBLIC,
    ROLES,
    SUMMARY,
    Access,
    Answer,
    Markers,
    Tally,
    allow,
    foreign_data,
    judge,
    required,
)
from tests.factories import PASSWORD, Actor, make_user, sign_in
from tests.passwords.password_helpers import reset_token
from tests.record_rights.rights_helpers import API, Records, make_records, random_id
from tests.record_rights.test_phi_routes_audited import (
    PLAN_BODY,
    URL_ARGS,
    WEBHOOK_BODY,
    add_lone_clinician,
    etag,
    invitation_token,
    minute_ago,
    patient_body,
    rolled_back,
    session_body,
    start_session,
)
from tests.record_rights.test_phi_routes_audited import World as RecordWorld

P = f"{API}/patients/<uuid:patient_id>"
S = f"{API}/sessions/<uuid:session_id>"
N = f"{API}/notes/<uuid:note_id>"
CARE_TEAM_MEMBER = f"{P}/care-team/<uuid:clinician_id>"
W = f"{API}/webhooks/<uuid:webhook_id>"

# The oracle: api-contract.md, Resources. "care team" and "the patient" are scoped: a clinician
# reaches the patients of their care teams, a patient their own record, an admin every record
# (where the row names admins at all). A role the row does not name gets 403.
POLICY: dict[tuple[str, str], Access] = {
    # Signing in and out.
    ("POST", f"{API}/auth/login"): PUBLIC,
    ("POST", f"{API}/auth/activate"): PUBLIC,  # the invitation token is the credential
    ("POST", f"{API}/auth/password-reset"): PUBLIC,  # the same answer for every address
    ("POST", f"{API}/auth/password-reset/confirm"): PUBLIC,  # the reset token is the credential
    ("POST", f"{API}/me/password"): ANY_USER,  # always the caller's own password
    ("POST", f"{API}/auth/refresh"): ANY_USER,  # with the caller's refresh token as bearer
    ("POST", f"{API}/auth/logout"): ANY_USER,
    ("GET", f"{API}/me"): ANY_USER,
    ("GET", f"{API}/me/notifications"): ANY_USER,  # always the caller's own inbox
    ("GET", f"{API}/instruments"): ANY_USER,
    # Accounts.
    ("POST", f"{API}/clinicians"): allow(ADMIN),
    ("GET", f"{API}/clinicians"): allow(ADMIN),
    ("POST", f"{API}/users/<uuid:user_id>/deactivate"): allow(ADMIN),
    ("GET", f"{API}/audit"): allow(ADMIN),
    # Patients and care teams.
    ("POST", f"{API}/patients"): allow(CLINICIAN, ADMIN),
    ("GET", f"{API}/patients"): allow(CLINICIAN, ADMIN),
    ("GET", P): allow(CLINICIAN, PATIENT, ADMIN, scoped=True),
    # The patient changes their own time zone and emergency contact (tests/patients).
    ("PATCH", P): allow(CLINICIAN, PATIENT, ADMIN, scoped=True),
    ("PUT", CARE_TEAM_MEMBER): allow(CLINICIAN, ADMIN, scoped=True),
    ("DELETE", CARE_TEAM_MEMBER): allow(CLINICIAN, ADMIN, scoped=True),
    ("GET", f"{P}/access-log"): allow(CLINICIAN, PATIENT, ADMIN, scoped=True),
    ("GET", f"{P}/export"): allow(CLINICIAN, PATIENT, ADMIN, scoped=True),
    # Sessions. Scheduling is for a care-team patient, named in the body.
    ("POST", f"{API}/sessions"): allow(CLINICIAN, scoped=True),
    ("GET", f"{API}/sessions"): allow(CLINICIAN, PATIENT),
    ("GET", S): allow(CLINICIAN, PATIENT, scoped=True),
    ("PATCH", S): allow(CLINICIAN, scoped=True),
    ("POST", f"{S}/start"): allow(CLINICIAN, scoped=True),
    ("POST", f"{S}/complete"): allow(CLINICIAN, scoped=True),
    ("POST", f"{S}/cancel"): allow(CLINICIAN, scoped=True),
    ("POST", f"{S}/no-show"): allow(CLINICIAN, scoped=True),
    ("POST", f"{S}/medication-taken"): allow(CLINICIAN, PATIENT, scoped=True),
    ("GET", f"{S}/timeline"): allow(CLINICIAN, PATIENT, scoped=True),
    ("GET", f"{API}/calendar.ics"): allow(CLINICIAN),
    ("POST", f"{API}/calendar/subscription"): allow(CLINICIAN),  # the caller's own feed URL
    ("DELETE", f"{API}/calendar/subscription"): allow(CLINICIAN),
    # Check-ins and outcomes.
    ("POST", f"{API}/checkins"): allow(PATIENT),  # always the caller's own record
    ("GET", f"{P}/checkins"): allow(CLINICIAN, PATIENT, scoped=True),
    ("GET", f"{API}/checkins/<uuid:checkin_id>"): allow(CLINICIAN, PATIENT, scoped=True),
    ("GET", f"{P}/outcomes"): allow(CLINICIAN, PATIENT, scoped=True),
    # Check-in schedules: the care team reads and replaces a plan, the patient reads it (the
    # contract names no admin); what is due now is the caller's own.
    ("GET", f"{P}/schedule"): allow(CLINICIAN, PATIENT, scoped=True),
    ("PUT", f"{P}/schedule"): allow(CLINICIAN, scoped=True),
    ("GET", f"{API}/me/due"): allow(PATIENT),
    # Alerts.
    ("GET", f"{API}/alerts"): allow(CLINICIAN, ADMIN),  # admins: every patient's (oversight)
    ("POST", f"{API}/alerts/<uuid:alert_id>/acknowledge"): allow(CLINICIAN, scoped=True),
    # Monitoring notes. Signing is the author's; each world note's author is the care-team
    # clinician, so here it reads as care team (a non-author's 403 is in tests/monitoring).
    ("POST", f"{S}/notes"): allow(CLINICIAN, scoped=True),
    ("GET", f"{S}/notes"): allow(CLINICIAN, PATIENT, scoped=True),
    ("GET", N): allow(CLINICIAN, PATIENT, scoped=True),
    ("POST", f"{N}/sign"): allow(CLINICIAN, scoped=True),
    ("POST", f"{N}/amendments"): allow(CLINICIAN, scoped=True),
    # Webhooks: the clinic's systems, configured by admins.
    ("POST", f"{API}/webhooks"): allow(ADMIN),
    ("GET", f"{API}/webhooks"): allow(ADMIN),
    ("DELETE", W): allow(ADMIN),
    ("GET", f"{W}/deliveries"): allow(ADMIN),
    ("POST", f"{W}/deliveries/<uuid:delivery_id>/retry"): allow(ADMIN),
    # Operations and documentation.
    ("GET", "/"): PUBLIC,  # where to start: the docs page and the OpenAPI document
    ("GET", API): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/assets/<path:filename>"): PUBLIC,  # what makes /docs work offline
}

# Rules of the map that are no route of the service, with the reason.
OUTSIDE_MATRIX: dict[tuple[str, str], str] = {
    ("GET", "/static/<path:filename>"): "Flask's built-in static route; the app has no files",
    ("GET", f"{API}/calendar/feeds/<secret>.ics"): "a calendar feed opened by the secret in its "
    "URL, no token and no role: tests/calendar checks that any secret but a live one is 404",
    ("POST", f"{API}/me/notifications/<uuid:notification_id>/read"): "a user's own inbox entry, "
    "owned by a user rather than a patient record: tests/outbound/test_inbox.py checks that "
    "every other user's entry is 404 and an anonymous call 401",
}

# --- the world --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Whose records a call names: an owner's (with the record_rights World seen from their
    side), or, with owner None, ids that exist nowhere."""

    owner: str | None
    view: RecordWorld | None
    ids: dict[str, str]


@dataclass
class Matrix:
    app: Flask
    client: FlaskClient
    world: Any
    helper: Actor
    targets: dict[str, Target]
    markers: dict[str, re.Pattern[str]]
    tally: Tally = field(default_factory=Tally)
    baselines: dict[tuple[str, str, str], Answer] = field(default_factory=dict)

    def actor(self, name: str) -> Actor:
        return getattr(self.world, name)  # type: ignore[no-any-return]

    def random_target(self) -> Target:
        ids = {name: random_id() for name in URL_ARGS}
        return Target(None, None, {**ids, "filename": FILENAME})


FILENAME = "index.css"  # one of Swagger UI's files under /docs/assets


def owner_view(m: Matrix, owner: str, records: Records) -> RecordWorld:
    """The record_rights World from `owner`'s side: its helpers' "patient" is the owner,
    "clinician" the owner's care-team clinician, and "lone_clinician" (the clinician the
    care-team routes add, remove and deactivate) a helper clinician on no team, never the
    matrix's lone clinician, whose reach must stay empty."""
    people = SimpleNamespace(
        patient=m.actor(owner), clinician=m.actor(CARE_TEAM[owner]), lone_clinician=m.helper
    )
    return RecordWorld(m.app, m.client, people, records)


def owner_markers(m: Matrix, owner: str, records: Records) -> re.Pattern[str]:
    user = m.actor(owner).user
    ids = {str(user.id), records.session_id, records.note_id, records.checkin_id}
    return Markers(owner, ids | {records.alert_id}, {user.name, user.email}).pattern()


@pytest.fixture
def matrix(app: Flask, client: FlaskClient, world: Any) -> Matrix:
    helper = sign_in(app, make_user(app, Role.CLINICIAN, name="Dr. Hal Helper"))
    m = Matrix(app, client, world, helper, {}, {})
    for owner in OWNERS:
        records = make_records(client, m.actor(CARE_TEAM[owner]), m.actor(owner))
        view = owner_view(m, owner, records)
        ids = {name: value(view) for name, value in URL_ARGS.items()}
        m.targets[owner] = Target(owner, view, {**ids, "filename": FILENAME})
        m.markers[owner] = owner_markers(m, owner, records)
    return m


# --- how to call each route -------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    m: Matrix
    actor: str
    target: Target


@dataclass(frozen=True)
class Request:
    """A minimal valid call: its JSON body, a preparation inside the cell's savepoint that
    returns extra headers, which of the actor's tokens it presents, and URL arguments that
    depend on the caller."""

    body: Callable[[Cell], Any] | None = None
    prepare: Callable[[Cell], dict[str, str]] | None = None
    token: str = "access"
    args: Callable[[Cell], dict[str, str]] | None = None


def fixed(body: Any) -> Callable[[Cell], Any]:
    return lambda c: body


def if_match(path: str) -> Callable[[Cell], dict[str, str]]:
    """The record's current ETag (a random id has no record, and is refused before If-Match
    counts)."""

    def prepare(c: Cell) -> dict[str, str]:
        if c.target.view is None:
            return {"If-Match": '"0"'}
        return etag(c.target.view, path.format(**c.target.ids))

    return prepare


def on_view(step: Callable[[RecordWorld], object]) -> Callable[[Cell], dict[str, str]]:
    """Run a record_rights preparation on the owner's records (nothing to prepare for a random
    id)."""

    def prepare(c: Cell) -> dict[str, str]:
        if c.target.view is not None:
            step(c.target.view)
        return {}

    return prepare


def login_body(c: Cell) -> dict[str, str]:
    who = c.m.helper if c.actor == ANONYMOUS else c.m.actor(c.actor)
    return {"email": who.user.email, "password": PASSWORD}


def any_view(c: Cell) -> RecordWorld:
    """The owner's view, or world.patient's where the ids are random (for what needs none)."""
    view = c.target.view or c.m.targets["patient"].view
    assert view is not None
    return view


def joining_self(c: Cell) -> dict[str, str]:
    """A clinician puts themselves on the care team (how one would reach a foreign record);
    others add the helper clinician."""
    if c.target.view is None or c.actor == ANONYMOUS or ROLES[c.actor] is not CLINICIAN:
        return {}
    return {"clinician_id": c.m.actor(c.actor).id}


def schedule_body(c: Cell) -> dict[str, Any]:
    body = session_body(any_view(c))
    return body if c.target.view else {**body, "patient_id": random_id()}


REQUESTS: dict[str, Request] = {
    "auth.login": Request(login_body),
    "auth.activate": Request(
        lambda c: {"token": invitation_token(any_view(c)), "password": PASSWORD}
    ),
    "auth.refresh": Request(token="refresh"),
    "clinicians.create_clinician": Request(
        lambda c: {"email": f"dr-{random_id()[:8]}@example.test", "name": "Dr. New"}
    ),
    # An admin names the first clinician of the care team (a clinician creator joins it).
    "patients.create_patient": Request(lambda c: {**patient_body(), "clinician_id": c.m.helper.id}),
    # A change the patient may make too (the care team's own fields: tests/patients).
    "patients.update_patient": Request(
        fixed({"timezone": "Europe/Berlin"}), if_match(f"{API}/patients/{{patient_id}}")
    ),
    "passwords.change_password": Request(
        fixed({"current_password": PASSWORD, "new_password": "a brand new passphrase 7"})
    ),
    "passwords.request_password_reset": Request(fixed({"email": "someone@example.test"})),
    "passwords.reset_password": Request(
        lambda c: {
            "token": reset_token(c.m.app, any_view(c).actor("patient").id),
            "password": PASSWORD,
        }
    ),
    "patients.add_care_team_member": Request(args=joining_self),
    "patients.remove_care_team_member": Request(prepare=on_view(add_lone_clinician)),
    "sessions.schedule_session": Request(schedule_body),
    "sessions.update_session": Request(
        fixed({"notes": "Bring water."}), if_match(f"{API}/sessions/{{session_id}}")
    ),
    "sessions.start_session": Request(fixed({})),
    # The records' note is unsigned, so completing takes a reason.
    "sessions.complete_session": Request(fixed({"reason": "Ended early."}), on_view(start_session)),
    "sessions.cancel_session": Request(fixed({"reason": "Unwell."})),
    "sessions.mark_no_show": Request(fixed({})),
    "sessions.medication_taken": Request(fixed({}), on_view(start_session)),
    "checkins.submit_checkin": Request(lambda c: {"recorded_at": minute_ago(), "mood": 6}),
    "schedules.replace_schedule": Request(fixed(PLAN_BODY)),
    "alerts.acknowledge_alert": Request(fixed({"note": "Called the patient."})),
    "monitoring.add_note": Request(lambda c: {"observed_at": minute_ago(), "text": "Resting."}),
    "monitoring.sign_note": Request(fixed({})),
    "monitoring.amend_note": Request(fixed({"text": "Resting quietly.", "reason": "Precise."})),
    "webhooks.create_webhook": Request(fixed(WEBHOOK_BODY)),
}

# --- the map ----------------------------------------------------------------------------------


def routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint)):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_is_in_the_policy(app):
    undeclared = [
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule, method in routes(app)
        if (method, rule.rule) not in POLICY and (method, rule.rule) not in OUTSIDE_MATRIX
    ]

    assert undeclared == [], "declare who may use each new route in POLICY"


def test_the_policy_names_only_routes_that_exist(app):
    existing = {(method, rule.rule) for rule, method in routes(app)}

    assert set(POLICY) - existing == set(), "POLICY names routes that are gone"
    assert set(OUTSIDE_MATRIX) - existing == set(), "OUTSIDE_MATRIX names routes that are gone"
    assert set(POLICY) & set(OUTSIDE_MATRIX) == set()
    endpoints = {rule.endpoint for rule, _method in routes(app)}
    assert set(REQUESTS) - endpoints == set(), "REQUESTS names routes that are gone"


# --- the matrix -------------------------------------------------------------------------------


def call(m: Matrix, rule: Rule, method: str, actor: str, target: Target) -> Answer:
    """One isolated call: prepared and made inside a savepoint that is rolled back after."""
    spec = REQUESTS.get(rule.endpoint, Request())
    with rolled_back(m.app):
        cell = Cell(m, actor, target)
        headers = spec.prepare(cell) if spec.prepare else {}
        if actor != ANONYMOUS:
            caller = m.actor(actor)
            token = caller.refresh_token if spec.token == "refresh" else caller.access_token
            headers["Authorization"] = f"Bearer {token}"
        values = {name: target.ids[name] for name in rule.arguments}
        values |= spec.args(cell) if spec.args else {}
        url = m.app.url_map.bind("localhost").build(rule.endpoint, values, method=method)
        body = spec.body(cell) if spec.body else None
        response = m.client.open(url, method=method, json=body, headers=headers, buffered=True)
        answer = Answer(response.status_code, response.mimetype, response.get_data(as_text=True))
        response.close()
    return answer


def baseline(m: Matrix, rule: Rule, method: str, actor: str) -> Answer:
    """What `actor` gets for the same call on ids that exist nowhere."""
    key = (method, rule.rule, actor)
    if key not in m.baselines:
        m.baselines[key] = call(m, rule, method, actor, m.random_target())
        m.tally.baselines += 1
    return m.baselines[key]


def check_cell(m: Matrix, rule: Rule, method: str, actor: str, owner: str) -> None:
    access = POLICY[(method, rule.rule)]
    target = m.targets[owner]
    must = required(access, actor, owner)
    answer = call(m, rule, method, actor, target)
    label = f"{method} {rule.rule} as {actor}"
    label += f" on {owner}'s record" if access.scoped else ""
    same = baseline(m, rule, method, actor) if must == 404 and answer.status == 404 else None
    verdict, why = judge(must, answer, same)
    seen = foreign_data(answer.text, actor, m.markers)
    if seen and verdict != "leak":
        verdict, why = "leak", f"{answer.status} carries data of {', '.join(seen)}"
    m.tally.count(label, must, answer, verdict, why)


def test_authorization_matrix(matrix: Matrix) -> None:
    m = matrix
    missing_args: list[str] = []
    for rule, method in routes(m.app):
        if (method, rule.rule) in OUTSIDE_MATRIX:
            continue
        if set(rule.arguments) - set(m.targets["patient"].ids):
            missing_args.append(f"{method} {rule.rule}: add its URL arguments to URL_ARGS")
            continue
        m.tally.routes += 1
        scoped = POLICY[(method, rule.rule)].scoped
        for owner in OWNERS if scoped else ("patient",):
            for actor in ACTORS:
                check_cell(m, rule, method, actor, owner)
    SUMMARY[:] = m.tally.lines()  # printed at the end of the run (tests/authz/conftest.py)

    assert missing_args == [], "\n".join(missing_args)
    assert m.tally.cells >= 400, m.tally.report()
    assert len(m.tally.leaks) == 0, m.tally.report()
    assert len(m.tally.wrong) == 0, m.tally.report()
