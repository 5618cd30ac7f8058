"""Issue 19: `GET /` and `GET /api/v1` point to the docs page and the OpenAPI document, for
anyone, instead of a bare 404; and the document itself says what the service is for and how to
sign in, page, retry and edit."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from telehealth.pagination import DEFAULT_LIMIT, MAX_LIMIT
from tests.problems import assert_problem

INDEX_PATHS = ("/", "/api/v1")


@pytest.mark.parametrize("path", INDEX_PATHS)
def test_the_index_points_to_the_docs_page_and_the_openapi_document(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "service": "Telehealth API",
        "version": "1",
        "api": "/api/v1",
        "docs": "/docs",
        "openapi": "/openapi.json",
    }


@pytest.mark.parametrize("path", INDEX_PATHS)
def test_the_pages_the_index_names_answer(client, path):
    index = client.get(path).get_json()

    for name in ("docs", "openapi"):
        response = client.get(index[name])
        assert response.status_code == 200, index[name]
        response.close()
    assert index["api"] + "/auth/login" in client.get(index["openapi"]).get_json()["paths"]


@pytest.mark.parametrize("path", INDEX_PATHS)
@pytest.mark.parametrize("role", ["admin", "clinician", "patient"])
def test_every_role_gets_the_same_index_as_a_stranger(client, world, path, role):
    signed_in = client.get(path, headers=getattr(world, role).headers)

    assert signed_in.status_code == 200
    assert signed_in.get_json() == client.get(path).get_json()


@pytest.mark.parametrize("path", INDEX_PATHS)
def test_a_bad_or_expired_token_does_not_hide_the_index(client, path):
    response = client.get(path, headers={"Authorization": "Bearer not-a-token"})

    assert response.status_code == 200


@pytest.mark.parametrize("path", INDEX_PATHS)
def test_the_index_carries_the_usual_headers(client, path):
    response = client.get(path, headers={"X-Request-ID": "index-check-1"})

    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-ID"] == "index-check-1"
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize("path", INDEX_PATHS)
def test_the_index_is_read_only(client, path):
    response = client.post(path, json={})

    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_an_unknown_query_parameter_on_the_api_base_is_refused_naming_it(client):
    assert_problem(client.get("/api/v1", query_string={"verbose": "1"}), 422, "verbose")


def test_the_index_reads_nothing_from_the_database(app: Flask, client: FlaskClient):
    """It answers from the settings alone, so it stays up (like /healthz) when the database
    is not answering, and the document lists no 503 for it."""
    paths = client.get("/openapi.json").get_json()["paths"]

    for path in INDEX_PATHS:
        assert "503" not in paths[path]["get"]["responses"]


# --- the OpenAPI document --------------------------------------------------------------------


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    spec: dict[str, Any] = client.get("/openapi.json").get_json()
    return spec


def test_the_index_routes_are_in_the_document_without_security(spec):
    for path, operation_id in (("/", "getServiceIndex"), ("/api/v1", "getApiIndex")):
        operation = spec["paths"][path]["get"]
        assert operation["security"] == []
        assert operation["operationId"] == operation_id
        body = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/IndexOut"}
    assert set(spec["components"]["schemas"]["IndexOut"]["required"]) == {
        "service",
        "version",
        "api",
        "docs",
        "openapi",
    }


def test_the_document_says_what_the_service_is_for_and_that_it_never_doses(spec):
    description = spec["info"]["description"]

    assert "ketamine-assisted therapy" in description
    assert "never makes a dosing decision" in description
    assert spec["info"]["title"] == "Telehealth API"
    assert spec["info"]["version"] == "1"


def test_the_document_says_how_to_sign_in_and_authorize_on_the_docs_page(spec):
    description = " ".join(spec["info"]["description"].split())

    assert "POST /api/v1/auth/login" in description
    assert "**Authorize**" in description
    assert "access_token" in description
    assert 'error_description="The access token expired"' in description
    assert "POST /api/v1/auth/refresh" in description


@pytest.mark.parametrize(
    "words",
    [
        ["application/problem+json", '"errors"', "422"],  # the error format
        ["?cursor=", "next_cursor", f"1-{MAX_LIMIT}, default {DEFAULT_LIMIT}"],  # pagination
        ["Idempotency-Key", "Idempotent-Replayed: true", "48 hours"],  # retries
        ["ETag", "If-Match", "If-Match: *", "428", "412"],  # edits
        ["429", "Retry-After", "65536 bytes", "Cache-Control: no-store"],  # limits, headers
    ],
)
def test_the_document_describes_the_rules_every_client_meets(spec, words):
    description = " ".join(spec["info"]["description"].split())

    for word in words:
        assert word in description, word


def test_the_description_states_the_settings_the_service_runs_with(app: Flask):
    from telehealth.discovery.info import describe

    text = describe({**app.config, "REFRESH_REUSE_GRACE_SECONDS": 7, "IDEMPOTENCY_TTL_HOURS": 72})
    text = " ".join(text.split())

    assert "within a grace of 7 seconds" in text
    assert "kept 72 hours" in text
    assert "valid 15 minutes" in text


def test_every_tag_of_the_document_is_described(spec):
    operations = [op for item in spec["paths"].values() for op in item.values() if "tags" in op]
    used = {tag for operation in operations for tag in operation["tags"]}
    described = {tag["name"]: tag.get("description", "") for tag in spec["tags"]}

    assert used <= set(described)
    assert all(described[tag].strip() for tag in used), described
