"""Issue 20: what an operation answers is declared on its route (`@blp.response`,
`@blp.alt_response`, `@blp.doc` with the marks of `telehealth.openapi.marks`), never in a table
of endpoints far from it that could drift or override the route."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from flask import Flask

import telehealth
from telehealth.openapi.marks import NO_DATABASE_KEY, RATE_LIMITED_KEY
from tests.foundation.test_route_decorators import decorator_name

PACKAGE = Path(telehealth.__file__).parent
OPENAPI = PACKAGE / "openapi"


def string_constants(path: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_the_openapi_package_names_no_endpoint(app: Flask):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    named = {
        f"{path.name}: {text}"
        for path in sorted(OPENAPI.glob("*.py"))
        for text in string_constants(path) & endpoints
    }
    assert not named, "declare these on the route instead:\n" + "\n".join(sorted(named))


def routes_and_decorators() -> list[tuple[str, list[ast.expr]]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                decorator_name(d) == "route" for d in node.decorator_list
            ):
                found.append(
                    (f"{path.relative_to(PACKAGE.parent)}:{node.name}", node.decorator_list)
                )
    return found


def test_the_route_finder_sees_the_routes():
    assert len(routes_and_decorators()) > 50


def test_a_route_under_a_rate_limit_says_so_in_its_doc():
    """`@limiter.limit` and `@blp.doc(**RATE_LIMITED)` go together: the document lists 429 and
    the rate-limit headers exactly where a limit applies."""
    mismatched = []
    for where, decorators in routes_and_decorators():
        limited = any(decorator_name(d) == "limit" for d in decorators)
        marked = any(
            decorator_name(d) == "doc" and "RATE_LIMITED" in ast.unparse(d) for d in decorators
        )
        if limited != marked:
            mismatched.append(where)
    assert not mismatched, "limited without the mark, or the reverse:\n" + "\n".join(mismatched)


def test_rate_limited_routes_document_429_and_the_limit_headers(client):
    document = client.get("/openapi.json").get_json()
    login = document["paths"]["/api/v1/auth/login"]["post"]["responses"]
    me = document["paths"]["/api/v1/me"]["get"]["responses"]

    assert "429" in login
    assert "X-RateLimit-Remaining" in login["200"]["headers"]
    assert "429" not in me
    assert "X-RateLimit-Remaining" not in me["200"]["headers"]


def test_routes_that_need_no_database_never_document_503(client):
    paths = client.get("/openapi.json").get_json()["paths"]

    assert "503" not in paths["/healthz"]["get"]["responses"]
    assert "503" not in paths["/api/v1"]["get"]["responses"]
    assert "503" in paths["/readyz"]["get"]["responses"]


def test_an_error_the_route_declares_keeps_the_routes_description(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    acknowledge = paths["/api/v1/alerts/{alert_id}/acknowledge"]["post"]["responses"]

    assert acknowledge["409"]["description"] == "The alert was already acknowledged."
    assert acknowledge["409"]["content"]["application/problem+json"]


def test_the_marks_do_not_reach_the_served_document(client):
    text = json.dumps(client.get("/openapi.json").get_json())

    assert RATE_LIMITED_KEY not in text
    assert NO_DATABASE_KEY not in text


def test_bodies_that_are_not_json_are_declared_on_their_routes(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    export = paths["/api/v1/patients/{patient_id}/export"]["get"]["responses"]["200"]
    feed = paths["/api/v1/calendar.ics"]["get"]["responses"]["200"]

    assert set(export["content"]) == {"application/json", "application/fhir+json"}
    assert list(export["headers"]) == ["X-Request-ID", "Content-Disposition"]
    assert set(feed["content"]) == {"text/calendar"}
