"""Many requests committing at once still leave one linear, intact chain: on PostgreSQL the
database links each event inside COMMIT (a deferred trigger under the chain lock), on SQLite
the application links it as it inserts. Real concurrent transactions, so these tests run
against a database of their own, not the per-test rolled-back one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from telehealth.accounts.models import Role
from telehealth.audit import chain
from telehealth.audit.models import AuditEvent, Outcome
from telehealth.extensions import db
from tests.databases import app_on_own_database, backend
from tests.factories import make_patient, make_user, sign_in

THREADS = 16
REQUESTS_EACH = 5


@pytest.fixture(scope="module")
def chain_app() -> Iterator[Flask]:
    with app_on_own_database("telehealth_chain") as app:
        yield app


def _events(app: Flask) -> list[AuditEvent]:
    with app.app_context(), db.begin() as session:
        return list(session.scalars(sa.select(AuditEvent).order_by(AuditEvent.sequence)))


def test_simultaneous_requests_leave_one_intact_chain(chain_app):
    app = chain_app
    clinician = make_user(app, Role.CLINICIAN, name="Dr. Chain")
    patient = make_patient(app, clinician, name="Pat Chain")
    actor = sign_in(app, clinician)
    before = len(_events(app))
    barrier = threading.Barrier(THREADS)

    def read_many() -> list[int]:
        client = app.test_client()
        barrier.wait(timeout=10)
        return [
            client.get(f"/api/v1/patients/{patient.id}/checkins", headers=actor.headers).status_code
            for _ in range(REQUESTS_EACH)
        ]

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = [s for batch in pool.map(lambda _: read_many(), range(THREADS)) for s in batch]

    assert statuses == [200] * THREADS * REQUESTS_EACH
    events = _events(app)
    assert len(events) == before + THREADS * REQUESTS_EACH
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert all(e.link_pending is None for e in events)
    with app.app_context(), db.begin() as session:
        verification = chain.verify(session)
    assert verification.broken is None
    assert verification.checked == len(events)


@pytest.mark.postgres
@pytest.mark.skipif(backend() != "postgresql", reason="the commit-time link is PostgreSQL's")
def test_an_unlinked_event_is_linked_by_the_commit_and_only_by_it(chain_app):
    """Before COMMIT the event waits unlinked; the commit fills its links; the one UPDATE
    the append-only rule lets through cannot change what the event says."""
    app = chain_app
    with app.app_context(), db.begin() as session:
        event = chain.append(
            session,
            AuditEvent(
                action="test.link", resource_type="test", outcome=Outcome.SUCCESS, status_code=200
            ),
        )
        pending = session.execute(
            sa.select(AuditEvent.sequence, AuditEvent.link_pending).where(AuditEvent.id == event.id)
        ).one()
        assert pending.sequence is None and pending.link_pending
    with app.app_context(), db.begin() as session:
        linked = session.get(AuditEvent, event.id)
        assert linked is not None and linked.sequence and linked.link_pending is None
        assert linked.hash == chain.digest(linked.prev_hash or "", linked, app.config["AUDIT_KEY"])

    forge = AuditEvent(
        action="test.forge", resource_type="test", outcome=Outcome.SUCCESS, status_code=200
    )
    with (
        app.app_context(),
        pytest.raises(DBAPIError, match="append-only"),
        db.begin() as session,
    ):
        chain.append(session, forge)
        session.execute(
            sa.update(AuditEvent)
            .where(AuditEvent.id == forge.id)
            .values(status_code=500, sequence=10**9, prev_hash="0" * 64, link_pending=None)
        )


@pytest.mark.postgres
@pytest.mark.skipif(backend() != "postgresql", reason="the commit-time link is PostgreSQL's")
def test_an_event_pending_without_the_key_cannot_commit(chain_app):
    """Someone with write access inserts an event the way the application does, pending its
    link, but cannot hand over the key: the commit-time link refuses it, so it never exists."""
    app = chain_app
    with app.app_context():
        before = len(_events(app))
        with pytest.raises(DBAPIError, match="chain key"), db.begin() as session:
            session.execute(
                sa.insert(AuditEvent).values(
                    action="patient.export",
                    resource_type="patient",
                    outcome="success",
                    status_code=200,
                    link_pending='{"action":"patient.export","sequence":\n}',
                )
            )
        assert len(_events(app)) == before


@pytest.mark.postgres
@pytest.mark.skipif(backend() != "postgresql", reason="the commit-time link is PostgreSQL's")
def test_the_key_lasts_only_as_long_as_its_transaction(chain_app):
    """The key reaches the commit-time link through a setting local to the transaction: once
    it commits, the same connection no longer holds it, and no row does."""
    app = chain_app
    key = app.config["AUDIT_KEY"]
    with app.app_context(), db.engine.connect() as connection:
        session = Session(bind=connection)
        event = chain.append(
            session,
            AuditEvent(
                action="test.key", resource_type="test", outcome=Outcome.SUCCESS, status_code=200
            ),
        )
        session.commit()
        assert connection.scalar(
            sa.text("SELECT current_setting('telehealth.audit_key', true)")
        ) in ("", None)
        row = connection.execute(
            sa.text("SELECT to_jsonb(e)::text FROM audit_events e WHERE id = :id"), {"id": event.id}
        ).scalar_one()
        assert key not in row
        connection.rollback()
