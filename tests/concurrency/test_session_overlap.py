"""Many simultaneous bookings of one clinician's slot: exactly one wins (PostgreSQL row locks;
SQLite's single writer)."""

from __future__ import annotations

from sqlalchemy import func, select

from telehealth.accounts.models import Role
from telehealth.extensions import db
from telehealth.sessions.models import TreatmentSession
from tests.concurrency.race import race
from tests.factories import make_patient, make_user, sign_in

REQUESTS = 24


def test_concurrent_bookings_of_one_slot_yield_one_session(committed_app):
    clinician = make_user(committed_app, Role.CLINICIAN)
    actor = sign_in(committed_app, clinician)
    patients = [make_patient(committed_app, clinician) for _ in range(REQUESTS)]

    def book(client, index):
        # Each request books a different patient, so only the clinician's slot can clash.
        return client.post(
            "/api/v1/sessions",
            headers=actor.headers,
            json={
                "patient_id": str(patients[index].id),
                "scheduled_start": "2026-12-01T14:00:00+00:00",
                "duration_minutes": 60,
                "modality": "video",
                "treatment_monitor": {"name": "Sam Sitter", "phone": "+1 555 0100"},
            },
        )

    statuses = sorted(response.status_code for response in race(committed_app, REQUESTS, book))

    assert statuses == [201] + [409] * (REQUESTS - 1)
    with committed_app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(TreatmentSession))
    assert stored == 1
