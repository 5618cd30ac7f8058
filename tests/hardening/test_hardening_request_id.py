"""Issue 18, finding 8: a client's X-Request-ID reaches the audit trail only when it is a safe
token (1-128 letters, digits or `._:-`); anything else is replaced by a fresh id."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from telehealth.audit.models import AuditEvent
from telehealth.extensions import db
from tests.hardening.hardening_helpers import API, Scene


def _stored_request_ids(app: Flask) -> list[str | None]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.request_id)))


@pytest.mark.parametrize(
    "supplied",
    ["<script>alert(1)</script>", "a b", "x" * 129, "id;drop", '"quoted"', "\u00e9t\u00e9"],
)
def test_an_unsafe_request_id_never_reaches_the_audit_trail(
    app: Flask, client: FlaskClient, scene: Scene, supplied: str
) -> None:
    response = client.get(
        f"{API}/patients/{scene.patient.id}",
        headers={**scene.clinician.headers, "X-Request-ID": supplied.encode().decode("latin-1")},
    )

    assert response.status_code == 200
    echoed = response.headers["X-Request-ID"]
    assert echoed != supplied
    stored = _stored_request_ids(app)
    assert echoed in stored
    assert not any(supplied in (request_id or "") for request_id in stored)


def test_a_safe_request_id_is_kept(app: Flask, client: FlaskClient, scene: Scene) -> None:
    response = client.get(
        f"{API}/patients/{scene.patient.id}",
        headers={**scene.clinician.headers, "X-Request-ID": "ios-7.2.1_req-0042"},
    )

    assert response.headers["X-Request-ID"] == "ios-7.2.1_req-0042"
    assert "ios-7.2.1_req-0042" in _stored_request_ids(app)
