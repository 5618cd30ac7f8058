"""Issue 18, finding 2: no answer may be cached, sniffed or framed. Every route's answer, success
or error (the login token response, a record, the export, the calendar, the docs page), carries
the security headers; HSTS only where it is configured (production)."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from config import ProductionConfig, TestConfig
from tests.factories import PASSWORD
from tests.hardening.hardening_helpers import API, Scene

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def assert_secure(response: TestResponse, where: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (
            f"{where}: {name} is {response.headers.get(name)!r}"
        )
    policy = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy, f"{where}: CSP {policy!r}"
    assert "Strict-Transport-Security" not in response.headers, where


def _url(rule: str) -> str:
    """The rule with every path parameter filled: an id that names nothing, or a word."""
    return re.sub(
        r"<(?:(\w+):)?(\w+)>",
        lambda m: str(uuid.uuid4()) if m.group(1) == "uuid" else "anything",
        rule,
    )


def test_every_route_answers_with_the_security_headers(
    app: Flask, client: FlaskClient, scene: Scene
) -> None:
    checked = 0
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS):
            url = _url(rule.rule)
            for headers in ({}, scene.admin.headers, scene.clinician.headers):
                response = client.open(url, method=method, headers=headers, json={})
                assert_secure(response, f"{method} {url} -> {response.status_code}")
                checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/patients/{patient}",
        "/api/v1/patients/{patient}/export",
        "/api/v1/patients/{patient}/checkins",
        "/api/v1/calendar.ics",
        "/api/v1/sessions/{session}",
        "/api/v1/me",
    ],
)
def test_health_records_are_not_cacheable(client: FlaskClient, scene: Scene, path: str) -> None:
    url = path.format(patient=scene.patient.id, session=scene.session_id)

    response = client.get(url, headers=scene.clinician.headers)

    assert response.status_code == 200, response.get_json()
    assert_secure(response, url)
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_token_response_is_not_cacheable(client: FlaskClient, scene: Scene) -> None:
    response = client.post(
        f"{API}/auth/login", json={"email": scene.clinician.user.email, "password": PASSWORD}
    )

    assert response.status_code == 200, response.get_json()
    assert_secure(response, "login")


def test_the_docs_page_allows_only_its_own_inline_script_and_this_server(
    client: FlaskClient,
) -> None:
    page = client.get("/docs")

    assert page.status_code == 200
    assert_secure(page, "/docs")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    assert policy.count("'sha256-") == page.get_data(as_text=True).count("<script>")
    asset = client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert asset.headers["X-Content-Type-Options"] == "nosniff"
    asset.close()


def test_hsts_is_sent_in_production_only(app: Flask, client: FlaskClient) -> None:
    assert TestConfig.HSTS_MAX_AGE == 0
    assert ProductionConfig.HSTS_MAX_AGE >= 365 * 24 * 3600
    app.config["HSTS_MAX_AGE"] = ProductionConfig.HSTS_MAX_AGE
    try:
        response = client.get("/healthz")
    finally:
        app.config["HSTS_MAX_AGE"] = 0

    assert response.headers["Strict-Transport-Security"] == (
        f"max-age={ProductionConfig.HSTS_MAX_AGE}; includeSubDomains"
    )
