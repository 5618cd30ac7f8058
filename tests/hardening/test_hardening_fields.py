"""Every string of every write body, and the headers a write reads, are bounded: a 20,000
character value (under the body cap, far over any field's bound), a NUL, a time outside the
calendar are each 422 naming the field, and write nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from telehealth.audit.models import AuditEvent, Outcome
from telehealth.extensions import db
from tests.hardening.hardening_helpers import (
    LONG,
    ROUTE_NAMES,
    WRITE_ROUTES,
    field_name,
    get_at,
    refused,
    replaced,
    send,
    string_leaves,
)
from tests.problems import names_field


def _every_string_refused(app, client, scene, name, spoil):
    """Send the route's valid body with one string at a time spoiled; each must be 422 and
    name that field. Collects every miss, so one run lists them all."""
    body = WRITE_ROUTES[name].body(scene)
    paths = list(string_leaves(body))
    assert paths
    misses = []
    for path in paths:
        spoiled = replaced(body, path, spoil(get_at(body, path)))
        problem, _ = refused(
            app, lambda spoiled=spoiled: send(client, scene, name, body=spoiled), 422
        )
        if not names_field(problem.get("errors") or {}, field_name(path)):
            misses.append((field_name(path), problem.get("errors")))
    assert not misses, misses


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_a_20000_character_value_in_any_string_is_422(app, client, scene, name):
    _every_string_refused(app, client, scene, name, lambda value: "x" * LONG + value)


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_a_value_one_past_its_bound_is_422(app, client, scene, name):
    """Not just absurd lengths: each text field's documented bound holds exactly."""
    bounds = {
        "name": 200,
        "emergency_contact.name": 200,
        "treatment_monitor.name": 200,
        "notes": 2000,
        "note": 2000,
        "reason": 500,
        "text": 10000,
        "adverse_event.description": 2000,
        "adverse_event.action_taken": 2000,
        "password": 256,
        "token": 256,
    }
    body = WRITE_ROUTES[name].body(scene)
    for path in string_leaves(body):
        bound = bounds.get(field_name(path))
        if bound is None:
            continue
        spoiled = replaced(body, path, "y" * (bound + 1))
        problem, _ = refused(
            app, lambda spoiled=spoiled: send(client, scene, name, body=spoiled), 422
        )
        assert names_field(problem["errors"], field_name(path)), problem


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_a_nul_in_any_string_is_422(app, client, scene, name):
    """Before: login's email (any string by design) reached PostgreSQL, which refuses NUL in
    text: a 500."""
    _every_string_refused(app, client, scene, name, lambda value: value[:1] + "\x00" + value[1:])


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_a_value_that_is_only_a_nul_is_422(app, client, scene, name):
    _every_string_refused(app, client, scene, name, lambda _value: "\x00")


# --- times outside the calendar ---------------------------------------------------------------

OUT_OF_RANGE = [
    "9999-12-31T23:59:59-14:00",  # past the last UTC instant Python has
    "0001-01-01T00:00:00+14:00",  # before the first
    "9999-12-31T23:00:00+00:00",  # representable, but a session's end or a time zone is not
    "0001-01-01T00:30:00Z",
]
TIME_FIELDS = {
    "POST /sessions": "scheduled_start",
    "PATCH /sessions/{id}": "scheduled_start",
    "POST /sessions/{id}/notes": "observed_at",
    "POST /checkins": "recorded_at",
}


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
@pytest.mark.parametrize("name", list(TIME_FIELDS))
def test_a_time_at_the_edge_of_the_calendar_is_422(app, client, scene, name, moment):
    """Before: converting these to UTC, adding a session's duration or showing them in the
    patient's time zone overflowed: a 500."""
    field = TIME_FIELDS[name]
    body = {**WRITE_ROUTES[name].body(scene), field: moment}

    problem, _ = refused(app, lambda: send(client, scene, name, body=body), 422)
    assert names_field(problem["errors"], field)


def test_medication_taken_at_the_edge_of_the_calendar_is_422(app, client, scene):
    url = f"/api/v1/sessions/{scene.session_id}/medication-taken"
    for moment in OUT_OF_RANGE:
        problem, _ = refused(
            app,
            lambda moment=moment: client.post(
                url, json={"taken_at": moment}, headers=scene.clinician.headers
            ),
            422,
        )
        assert names_field(problem["errors"], "taken_at")


# --- headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["k" * LONG, "k" * 256, "has space", "ümlaut", ""])
def test_an_unusable_idempotency_key_is_422(app, client, scene, key):
    problem, _ = refused(
        app,
        lambda: send(client, scene, "POST /checkins", headers={"Idempotency-Key": key}),
        422,
    )
    assert names_field(problem["errors"], "Idempotency-Key")


def test_a_255_character_idempotency_key_is_fine(client, scene):
    response = send(client, scene, "POST /checkins", headers={"Idempotency-Key": "k" * 255})

    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_a_20000_character_request_id_is_not_honoured(app, client, scene, name):
    """X-Request-ID is the caller's to choose only within 128 safe characters. A longer one
    is not an error (a proxy may add it): it is replaced, so it never reaches a log line, a
    response header or the audit trail. The request is judged on its body alone."""
    supplied = "r" * LONG
    valid = WRITE_ROUTES[name].body(scene)
    body = replaced(valid, next(string_leaves(valid)), "x" * LONG)

    _, refusal = refused(
        app, lambda: send(client, scene, name, body=body, headers={"X-Request-ID": supplied}), 422
    )

    echoed = refusal.response.headers["X-Request-ID"]
    assert echoed != supplied
    assert 1 <= len(echoed) <= 128
    with app.app_context():
        stored = db.session.scalars(select(AuditEvent.request_id)).all()
    assert supplied not in stored
    assert all(request_id is None or len(request_id) <= 128 for request_id in stored)


def test_a_long_if_match_is_a_stale_precondition(app, client, scene):
    refused(
        app,
        lambda: send(client, scene, "PATCH /patients/{id}", headers={"If-Match": "v" * LONG}),
        412,
    )


def test_a_long_bearer_token_is_401(app, client, scene):
    refused(
        app,
        lambda: client.post(
            "/api/v1/clinicians",
            json=WRITE_ROUTES["POST /clinicians"].body(scene),
            headers={"Authorization": "Bearer " + "t" * LONG},
        ),
        401,
    )


# --- refusals are on the record ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        ('{"name": "x"}', "text/plain", 415),
        ("[" * 10_000 + "]" * 10_000, "application/json", 400),
        (b'{"name": "\xff"}', "application/json", 400),
    ],
    ids=["media-type", "nesting", "encoding"],
)
def test_a_refusal_before_the_view_is_still_audited(app, client, scene, raw, content_type, status):
    """Refused attempts are part of the record: the request guard's refusals leave the same
    failed audit event as a refusal by the view's own validation."""
    with app.app_context():
        before = set(db.session.scalars(select(AuditEvent.id)))

    refused(
        app,
        lambda: send(client, scene, "POST /patients", raw=raw, content_type=content_type),
        status,
    )

    with app.app_context():
        new = [event for event in db.session.scalars(select(AuditEvent)) if event.id not in before]
    assert [(e.action, e.outcome, e.status_code) for e in new] == [
        ("patient.create", Outcome.FAILED, status)
    ]
