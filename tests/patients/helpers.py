"""Small helpers shared by the patient and clinician tests: URLs, request bodies, problem
checks and direct reads of what the service stored."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from telehealth.accounts.models import User
from telehealth.audit.models import AuditEvent
from telehealth.extensions import db
from telehealth.patients.models import CareTeamMember, Patient
from tests.problems import INTERNALS, PROBLEM_JSON, assert_problem, assert_utc, names_field  # noqa: F401 - re-exported

API = "/api/v1"


def random_id() -> str:
    return str(uuid.uuid4())


def patient_url(patient_id: str) -> str:
    return f"{API}/patients/{patient_id}"


def care_team_url(patient_id: str, clinician_id: str) -> str:
    return f"{API}/patients/{patient_id}/care-team/{clinician_id}"


def patient_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /patients body; keyword arguments replace (or, with None, drop) fields."""
    body: dict[str, Any] = {
        "email": f"new-{uuid.uuid4().hex[:8]}@example.test",
        "name": "Nora New",
        "date_of_birth": "1990-05-06",
        "timezone": "Europe/Berlin",
        "emergency_contact": {"name": "Ned New", "phone": "+49 30 1234567"},
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def etag(client: FlaskClient, headers: dict[str, str], patient_id: str) -> str:
    response = client.get(patient_url(patient_id), headers=headers)
    assert response.status_code == 200
    return response.headers["ETag"]


def with_if_match(headers: dict[str, str], value: str) -> dict[str, str]:
    return {**headers, "If-Match": value}


def encode_cursor(values: Any) -> str:
    """A cursor in the service's own encoding, to forge ones that decode to odd values."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def collect_pages(
    client: FlaskClient, url: str, headers: dict[str, str], limit: int
) -> list[dict[str, Any]]:
    """Every page of a list, following `next_cursor`; asserts each page's size."""
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            query["cursor"] = cursor
        response = client.get(url, headers=headers, query_string=query)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        assert len(page["items"]) <= limit
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(page["items"]) == limit
        assert len(pages) < 100, "pagination does not end"


def stored_patient(app: Flask, patient_id: str) -> Patient | None:
    with app.app_context():
        return db.session.get(Patient, uuid.UUID(patient_id))


def stored_user(app: Flask, user_id: str) -> User | None:
    with app.app_context():
        return db.session.get(User, uuid.UUID(user_id))


def stored_user_by_email(app: Flask, email: str) -> User | None:
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def care_team_ids(app: Flask, patient_id: str) -> list[str]:
    """The clinician ids on a patient's care team, as stored (one entry per row)."""
    with app.app_context():
        rows = db.session.scalars(
            select(CareTeamMember.clinician_id).where(
                CareTeamMember.patient_id == uuid.UUID(patient_id)
            )
        )
        return sorted(str(clinician_id) for clinician_id in rows)


def audit_events(app: Flask, **where: Any) -> list[AuditEvent]:
    """Stored audit events matching `where` (attribute=value; ids may be given as strings)."""
    criteria = {
        key: uuid.UUID(value) if key in ("actor_id", "patient_id") and value else value
        for key, value in where.items()
    }
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).filter_by(**criteria).order_by(AuditEvent.occurred_at)
            )
        )


def deactivate(app: Flask, user_id: str) -> None:
    with app.app_context(), db.begin() as session:
        user = session.get(User, uuid.UUID(user_id))
        assert user is not None
        user.is_active = False
