"""Every list route bounds its query: `limit` outside 1-100, an over-long or forged cursor, a
20,000 character filter, a NUL, bytes that are not UTF-8, a time outside the calendar are each
a 4xx problem naming the parameter, never a 500."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.hardening.hardening_helpers import (
    ITEM9_TWO,
    LONG,
    WRITE_ROUTES,
    Scene,
    refused,
    send,
)
from tests.problems import names_field

API = "/api/v1"

#: Each list route, as (url, caller) for a scene.
LIST_ROUTES: dict[str, Callable[[Scene], tuple[str, Any]]] = {
    "GET /patients": lambda s: (f"{API}/patients", s.clinician),
    "GET /clinicians": lambda s: (f"{API}/clinicians", s.admin),
    "GET /sessions": lambda s: (f"{API}/sessions", s.clinician),
    "GET /patients/{id}/checkins": lambda s: (
        f"{API}/patients/{s.patient.id}/checkins",
        s.clinician,
    ),
    "GET /alerts": lambda s: (f"{API}/alerts", s.clinician),
    "GET /sessions/{id}/notes": lambda s: (f"{API}/sessions/{s.session_id}/notes", s.clinician),
    "GET /patients/{id}/access-log": lambda s: (
        f"{API}/patients/{s.patient.id}/access-log",
        s.clinician,
    ),
    "GET /audit": lambda s: (f"{API}/audit", s.admin),
}
LISTS = list(LIST_ROUTES)


def get(client, scene, name, query: str | dict[str, Any] = ""):
    url, actor = LIST_ROUTES[name](scene)
    if isinstance(query, str):
        return client.get(f"{url}?{query}" if query else url, headers=actor.headers)
    return client.get(url, query_string=query, headers=actor.headers)


@pytest.mark.parametrize("name", LISTS)
def test_the_list_answers_at_the_largest_limit(client, scene, name):
    response = get(client, scene, name, {"limit": 100})

    assert response.status_code == 200, response.get_json()
    assert set(response.get_json()) == {"items", "next_cursor"}


@pytest.mark.parametrize(
    "limit", ["101", str(10**9), "-1", "0", "abc", "1.5", "1e2", "", "%00", str(10**400)]
)
@pytest.mark.parametrize("name", LISTS)
def test_a_limit_outside_1_to_100_is_422(app, client, scene, name, limit):
    problem, _ = refused(app, lambda: get(client, scene, name, f"limit={limit}"), 422)
    assert names_field(problem["errors"], "limit"), problem


@pytest.mark.parametrize("name", LISTS)
def test_a_20000_character_cursor_is_422(app, client, scene, name):
    problem, _ = refused(app, lambda: get(client, scene, name, {"cursor": "c" * LONG}), 422)
    assert names_field(problem["errors"], "cursor")


def _cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


#: Each list's sort key, as its cursor spells it.
SHAPES = {
    "GET /patients": ("name", "id"),
    "GET /clinicians": ("name", "id"),
    "GET /alerts": ("priority", "time", "id"),
}
GOOD = {"name": "Pat", "time": "2026-01-01T00:00:00+00:00", "priority": 1}

#: Cursors a client could forge: the list's own shape, with one value no list of ours hands
#: out. Each applies to the lists whose sort key has that part.
FORGED: dict[str, dict[str, Any]] = {
    "time-past-the-calendar": {"time": "9999-12-31T23:59:59-14:00"},
    "time-before-the-calendar": {"time": "0001-01-01T00:00:00+14:00"},
    "time-without-offset": {"time": "2026-01-01T00:00:00"},
    "time-not-a-time": {"time": "yesterday"},
    "nul-in-a-name": {"name": "Pat\x00"},
    "name-not-a-string": {"name": 7},
    "huge-integer": {"priority": 10**30},
    "smallint-overflow": {"priority": 40_000},
    "boolean-priority": {"priority": True},
    "float-priority": {"priority": 1.5},
    "id-not-a-uuid": {"id": "not-a-uuid"},
    "id-a-number": {"id": 12},
    "null": {"id": None},
}
#: Forgeries of any list: not our encoding at all.
MANGLED = {
    "nested": lambda: _cursor([[[[["deep"]]]], str(uuid.uuid4())]),
    "object": lambda: _cursor({"a": 1}),
    "too-few-values": lambda: _cursor([str(uuid.uuid4())]),
    "not-base64": lambda: "%%%%",
    "not-utf8": lambda: base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    "not-json": lambda: base64.urlsafe_b64encode(b"{nope").decode(),
}


def _forged(name: str, change: dict[str, Any]) -> str:
    shape = SHAPES.get(name, ("time", "id"))
    values = {**GOOD, "id": str(uuid.uuid4()), **change}
    return _cursor([values[part] for part in shape])


FORGERIES = [
    pytest.param(name, _forged(name, change), id=f"{name}-{label}")
    for name in LISTS
    for label, change in FORGED.items()
    if set(change) <= set(SHAPES.get(name, ("time", "id")))
] + [
    pytest.param(name, mangle(), id=f"{name}-{label}")
    for name in LISTS
    for label, mangle in MANGLED.items()
]


@pytest.mark.parametrize(("name", "cursor"), FORGERIES)
def test_a_forged_cursor_is_422(app, client, scene, name, cursor):
    """Before: a forged cursor's time overflowed when bound, its huge integer or NUL reached
    the database (SQLite: OverflowError; PostgreSQL: out of range, NUL refused): a 500."""
    problem, _ = refused(app, lambda: get(client, scene, name, {"cursor": cursor}), 422)
    assert names_field(problem["errors"], "cursor")


def _second_of_each(client, scene: Scene) -> None:
    """One more check-in (with an alert), session, note and patient, so every list pages."""
    for name in ("POST /checkins", "POST /sessions", "POST /sessions/{id}/notes", "POST /patients"):
        body = WRITE_ROUTES[name].body(scene)
        if name == "POST /checkins":
            body["instruments"] = {"PHQ-9": ITEM9_TWO}
        response = send(client, scene, name, body=body)
        assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("name", LISTS)
def test_a_cursor_of_the_list_itself_still_works(client, scene, name):
    """The checks on forged cursors leave real ones alone, whatever the sort key."""
    _second_of_each(client, scene)
    first = get(client, scene, name, {"limit": 1}).get_json()
    assert first["next_cursor"] is not None

    response = get(client, scene, name, {"limit": 1, "cursor": first["next_cursor"]})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["items"]
    assert response.get_json()["items"] != first["items"]


@pytest.mark.parametrize("name", LISTS)
def test_bytes_that_are_not_utf8_in_the_query_are_400(app, client, scene, name):
    """Before: Werkzeug read them with replacement characters and `?q=%ff` searched for
    U+FFFD."""
    for query in ("limit=%ff", "cursor=%c3%28", "q=%ff%fe", "%ff=1", "x=%ed%a0%80"):
        problem, _ = refused(app, lambda query=query: get(client, scene, name, query), 400)
        assert "UTF-8" in problem["detail"]


@pytest.mark.parametrize("q", ["q" * LONG, "q" * 201, "Pat\x00", "\x00"])
def test_an_unusable_name_search_is_422(app, client, scene, q):
    problem, _ = refused(app, lambda: get(client, scene, "GET /patients", {"q": q}), 422)
    assert names_field(problem["errors"], "q")


def test_a_name_search_of_the_largest_length_answers(client, scene):
    response = get(client, scene, "GET /patients", {"q": "q" * 200})

    assert response.status_code == 200
    assert response.get_json()["items"] == []


@pytest.mark.parametrize(
    ("name", "parameter"),
    [
        ("GET /sessions", "from"),
        ("GET /sessions", "to"),
        ("GET /sessions", "updated_since"),
        ("GET /patients/{id}/checkins", "from"),
        ("GET /patients/{id}/checkins", "to"),
        ("GET /patients/{id}/checkins", "updated_since"),
        ("GET /audit", "from"),
        ("GET /audit", "to"),
    ],
)
def test_a_time_filter_outside_the_calendar_is_422(app, client, scene, name, parameter):
    for moment in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "x" * LONG):
        problem, _ = refused(
            app, lambda moment=moment: get(client, scene, name, {parameter: moment}), 422
        )
        assert names_field(problem["errors"], parameter)


@pytest.mark.parametrize("value", ["a" * LONG, "a" * 65, "patient.read\x00"])
def test_an_unusable_audit_action_filter_is_422(app, client, scene, value):
    """Before: a NUL in `action` reached PostgreSQL: a 500."""
    problem, _ = refused(app, lambda: get(client, scene, "GET /audit", {"action": value}), 422)
    assert names_field(problem["errors"], "action")
