"""The audit mechanism: one event per audited request, refused ones included, never changed."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from telehealth.audit.models import AuditEvent, AuditTrailIsAppendOnly, Outcome
from telehealth.extensions import db


def events(app, **filters) -> list[AuditEvent]:
    with app.app_context():
        statement = select(AuditEvent).filter_by(**filters).order_by(AuditEvent.occurred_at)
        return list(db.session.scalars(statement))


def test_a_refused_change_is_rolled_back_but_its_attempt_is_recorded(app, client, world):
    patient_url = f"/api/v1/patients/{world.patient.id}"
    etag = client.get(patient_url, headers=world.clinician.headers).headers["ETag"]
    response = client.patch(
        patient_url,
        json={"name": "Renamed", "email": world.other_patient.user.email},
        headers={**world.clinician.headers, "If-Match": etag},
    )
    assert response.status_code == 409

    stored = client.get(patient_url, headers=world.clinician.headers).json
    assert stored["name"] == "Pat Able"
    [attempt] = events(app, action="patient.update")
    assert attempt.outcome is Outcome.FAILED
    assert attempt.status_code == 409
    assert str(attempt.patient_id) == world.patient.id
    assert str(attempt.actor_id) == world.clinician.id
    assert attempt.actor_role == "clinician"
    assert attempt.request_id


def test_an_unauthenticated_attempt_is_recorded_without_an_actor(app, client, world):
    response = client.get(f"/api/v1/patients/{world.patient.id}")
    assert response.status_code == 401
    [attempt] = events(app, action="patient.read")
    assert attempt.outcome is Outcome.DENIED
    assert attempt.actor_id is None
    assert str(attempt.patient_id) == world.patient.id


def test_the_request_id_links_the_event_to_the_log_line(app, client, world):
    client.get(
        f"/api/v1/patients/{world.patient.id}",
        headers={**world.patient.headers, "X-Request-ID": "trace-123"},
    )
    [event] = events(app, action="patient.read")
    assert event.request_id == "trace-123"
    assert event.outcome is Outcome.SUCCESS


def test_the_orm_refuses_to_change_or_delete_events(app, client, world):
    client.get(f"/api/v1/patients/{world.patient.id}", headers=world.patient.headers)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent)).one()
        event.outcome = Outcome.DENIED
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalars(select(AuditEvent)).one())
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.flush()


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET outcome = 'denied'", "DELETE FROM audit_events"]
)
def test_the_database_refuses_to_change_or_delete_events(app, client, world, statement):
    client.get(f"/api/v1/patients/{world.patient.id}", headers=world.patient.headers)
    with app.app_context():
        session = db.session
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text(statement))
        assert session.scalar(text("SELECT count(*) FROM audit_events")) == 1
