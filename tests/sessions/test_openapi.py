"""Every field a session request or answer carries is in the OpenAPI document clients are
generated from."""

from __future__ import annotations

import pytest

from tests.sessions.helpers import SESSIONS, act, read, scheduled, session_body


@pytest.fixture
def spec(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def schema_of(spec, name):
    return spec["components"]["schemas"][name]


def test_every_answered_field_is_documented(client, world, spec):
    session_id = scheduled(client, world.clinician, world.patient.id)["id"]
    act(client, world.clinician, session_id, "cancel")
    answer = read(client, world.clinician, session_id)

    documented = schema_of(spec, "SessionOut")["properties"]
    assert set(answer) <= set(documented)
    transition = schema_of(spec, "TransitionOut")["properties"]
    assert set(answer["transitions"][0]) <= set(transition)
    for required in ("id", "status", "scheduled_start", "scheduled_start_local"):
        assert required in documented
    assert "medication_taken_at" in documented


def test_every_request_field_is_documented(world, spec):
    documented = schema_of(spec, "SessionIn")["properties"]

    assert set(session_body(world.patient.id)) <= set(documented)
    assert set(schema_of(spec, "SessionIn")["required"]) == {
        "patient_id",
        "scheduled_start",
        "duration_minutes",
        "modality",
        "treatment_monitor",
    }


def test_the_patch_documents_if_match_and_the_routes_exist(spec):
    paths = spec["paths"]
    parameters = paths[f"{SESSIONS}/{{session_id}}"]["patch"]["parameters"]

    (if_match,) = [p for p in parameters if p["name"] == "If-Match"]
    assert if_match["in"] == "header"
    assert if_match["required"] is True
    for action in ("start", "complete", "cancel", "no-show", "medication-taken"):
        assert "post" in paths[f"{SESSIONS}/{{session_id}}/{action}"]
    assert "get" in paths["/api/v1/calendar.ics"]


def test_the_list_documents_include_and_that_its_histories_come_only_with_it(spec):
    listing = spec["paths"][SESSIONS]["get"]
    (include,) = [p for p in listing["parameters"] if p["name"] == "include"]
    page = listing["responses"]["200"]["content"]["application/json"]["schema"]
    item_ref = schema_of(spec, page["$ref"].rsplit("/", 1)[-1])["properties"]["items"]["items"]
    listed = schema_of(spec, item_ref["$ref"].rsplit("/", 1)[-1])

    assert include["in"] == "query"
    assert include["schema"]["enum"] == ["transitions"]
    assert "transitions" in include["description"]
    assert "transitions" not in listed["required"]
    assert "include=transitions" in listed["properties"]["transitions"]["description"]
    assert set(listed["properties"]) == set(schema_of(spec, "SessionOut")["properties"])


def test_a_single_session_always_documents_its_history(spec):
    single = spec["paths"][f"{SESSIONS}/{{session_id}}"]["get"]
    answer = single["responses"]["200"]["content"]["application/json"]["schema"]

    assert answer["$ref"].endswith("/SessionOut")
    assert "transitions" in schema_of(spec, "SessionOut")["required"]
