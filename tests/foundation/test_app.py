"""The factory, settings, errors, health and docs: the machinery under every route."""

from __future__ import annotations

import re

import pytest

from config import DEV_SECRET, load_config
from telehealth import create_app
from tests.problems import assert_problem


@pytest.mark.parametrize(
    "overrides",
    [
        {"SECRET_KEY": DEV_SECRET, "JWT_SECRET_KEY": "x" * 40},
        {"SECRET_KEY": "x" * 40, "JWT_SECRET_KEY": ""},
        {"SECRET_KEY": "short", "JWT_SECRET_KEY": "x" * 40},
        {"SECRET_KEY": "x" * 40, "JWT_SECRET_KEY": "y" * 40, "DATABASE_URL": "sqlite:///x.db"},
    ],
)
def test_production_refuses_unsafe_settings(overrides):
    with pytest.raises(RuntimeError):
        load_config(
            "production",
            **{"DATABASE_URL": "postgresql+psycopg://db/x", "AUDIT_KEY": "a" * 40, **overrides},
        )


def test_production_accepts_real_secrets():
    config = load_config(
        "production",
        SECRET_KEY="s" * 40,
        JWT_SECRET_KEY="j" * 40,
        AUDIT_KEY="a" * 40,
        DATABASE_URL="postgresql+psycopg://db/telehealth",
        SMTP_URL="smtp://mail.clinic.example:25",  # invitations go by email in production
        MAIL_FROM="Telehealth <no-reply@clinic.example>",
    )
    assert config.RATELIMIT_STORAGE_URI == (config.REDIS_URL or "memory://")


def test_unknown_environment_is_refused():
    with pytest.raises(RuntimeError):
        load_config("staging")


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}


def test_readiness_is_red_when_the_database_does_not_answer(tmp_path):
    app = create_app(
        load_config("test", DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    )
    response = app.test_client().get("/readyz")
    body = assert_problem(response, 503)
    assert "psycopg" not in str(body).lower()
    assert app.test_client().get("/healthz").status_code == 200


def test_unknown_route_is_a_problem(client):
    body = assert_problem(client.get("/api/v1/nothing-here"), 404)
    assert body["detail"] == "Not found."


def test_wrong_method_is_405_with_allow(client):
    response = client.delete("/api/v1/me")
    assert_problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET"}


def test_oversized_body_is_413(client, world):
    body = '{"name": "' + "x" * (65 * 1024) + '"}'
    response = client.post(
        "/api/v1/patients",
        data=body,
        content_type="application/json",
        headers=world.clinician.headers,
    )
    body = assert_problem(response, 413)
    # Issue 18: the answer states the limit.
    assert body["detail"] == "The body is larger than the limit of 65536 bytes."


def test_invalid_json_is_a_problem_not_a_crash(client, world):
    response = client.post(
        "/api/v1/patients",
        data=b"{not json",
        content_type="application/json",
        headers=world.clinician.headers,
    )
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"


def test_unexpected_errors_are_a_bare_500():
    app = create_app(load_config("test"))

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail: SELECT * FROM users")

    response = app.test_client().get("/boom")
    body = assert_problem(response, 500)
    assert "secret" not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)
    assert body["title"] == "Internal Server Error"


def test_openapi_document_lists_the_routes(client):
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/auth/login", "/api/v1/patients/{patient_id}", "/api/v1/me"):
        assert path in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_needs_no_internet(client):
    page = client.get("/docs").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources, "the page loads its assets"
    for source in sources:
        assert source.startswith("/"), f"{source} would need the internet"
        response = client.get(source)
        assert response.status_code == 200
        response.close()


@pytest.mark.parametrize("cutoff", [0, 81, -5])
def test_a_pcl5_cutoff_outside_the_scale_is_refused(cutoff):
    with pytest.raises(RuntimeError, match="PCL5_CUTOFF"):
        load_config("test", PCL5_CUTOFF=cutoff)
