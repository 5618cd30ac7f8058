"""Issue 18, finding 8: an over-long URL answered gunicorn's HTML 414. The app now refuses any
URL over 4,096 characters itself, as a problem the OpenAPI document lists on every operation;
gunicorn's own limit sits above it. No valid request comes near: every query parameter is
bounded (a cursor is base64url)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient

from telehealth.guards import MAX_URL_LENGTH
from tests.hardening.hardening_helpers import API, Scene
from tests.problems import assert_problem


def padded(path: str, length: int) -> str:
    """`path` with a query string that makes the URL exactly `length` characters."""
    prefix = f"{path}?cursor="
    return prefix + "A" * (length - len(prefix))


def test_a_url_one_character_over_the_limit_is_a_414_problem(
    client: FlaskClient, scene: Scene
) -> None:
    url = padded(f"{API}/sessions", MAX_URL_LENGTH + 1)

    response = client.get(url, headers=scene.clinician.headers)

    body = assert_problem(response, 414)
    assert "4096" in body["detail"]
    assert "AAAA" not in response.get_data(as_text=True)


def test_a_url_at_the_limit_reaches_the_route(client: FlaskClient, scene: Scene) -> None:
    url = padded(f"{API}/sessions", MAX_URL_LENGTH)

    response = client.get(url, headers=scene.clinician.headers)

    # Past the length check: the over-long cursor is the route's own 422.
    assert_problem(response, 422, "cursor")


def test_the_limit_counts_the_url_as_sent_percent_encoded(
    client: FlaskClient, scene: Scene
) -> None:
    search = quote("\U0001f600" * 400)  # 400 characters, 4,800 once encoded

    response = client.get(f"{API}/patients?q={search}", headers=scene.clinician.headers)

    assert_problem(response, 414)


def test_an_unknown_route_and_an_anonymous_caller_get_the_same_414(client: FlaskClient) -> None:
    for path in (f"{API}/no-such-thing", f"{API}/sessions", "/"):
        assert_problem(client.get(padded(path, 5000)), 414)


def test_every_operation_documents_the_414(app: Flask, client: FlaskClient) -> None:
    paths = client.get("/openapi.json").get_json()["paths"]
    operations = [
        operation
        for item in paths.values()
        for operation in item.values()
        if isinstance(operation, dict) and "responses" in operation
    ]

    assert operations
    assert all("414" in operation["responses"] for operation in operations)


def test_every_query_parameter_is_bounded(client: FlaskClient) -> None:
    """What keeps valid requests under the limit: each string a query may carry has a
    maxLength, an enum or a format of fixed size; a cursor is base64url only."""
    paths = client.get("/openapi.json").get_json()["paths"]
    unbounded = []
    for path, item in paths.items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                if parameter.get("in") != "query" or schema.get("type") == "integer":
                    continue
                bounded = "maxLength" in schema or "enum" in schema
                bounded = bounded or schema.get("format") in ("uuid", "date-time", "date")
                if not bounded:
                    unbounded.append(f"{method} {path} {parameter['name']}")
                if parameter["name"] == "cursor":
                    assert schema["pattern"] == "^[A-Za-z0-9_=-]*$"
    assert unbounded == []


def test_a_cursor_with_characters_no_cursor_has_is_422(client: FlaskClient, scene: Scene) -> None:
    response = client.get(
        f"{API}/sessions", headers=scene.clinician.headers, query_string={"cursor": "é/+"}
    )

    assert_problem(response, 422, "cursor")
