"""Times are aware UTC on every backend; emails are unique whatever their case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from telehealth.accounts.models import Role, User
from telehealth.extensions import db
from tests.databases import backend


def _user(**fields) -> User:
    return User(role=Role.CLINICIAN, name="Dr. Time", email="time@example.test", **fields)


def test_times_come_back_as_aware_utc(app):
    berlin_noon = datetime(2026, 11, 21, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    with app.app_context():
        db.session.add(_user(deactivated_at=berlin_noon))
        db.session.flush()
        db.session.expire_all()
        stored = db.session.scalars(select(User)).one().deactivated_at
    assert stored == berlin_noon
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored.hour == 11


@pytest.mark.skipif(backend() != "postgresql", reason="a PostgreSQL session setting")
def test_postgresql_sessions_run_in_utc_whatever_the_server_default(app):
    """UTCTimestamp leaves PostgreSQL's values as psycopg reads them (no call per value), which
    is right only because every connection's TimeZone is UTC: an hour west, times would come
    back aware but at -01:00 and be written that way."""
    with app.app_context():
        session = db.session
        assert session.execute(text("SHOW TimeZone")).scalar_one() == "UTC"
        session.execute(text("SET LOCAL TimeZone = 'America/New_York'"))
        away = session.execute(text("SELECT TIMESTAMPTZ '2026-11-21 12:00:00+00'")).scalar_one()
        assert away.utcoffset() == timedelta(hours=-5)  # what the setting would do otherwise


def test_naive_times_are_refused(app):
    with app.app_context():
        db.session.add(_user(deactivated_at=datetime(2026, 11, 21, 12, 0)))
        with pytest.raises(StatementError, match="naive datetime"):
            db.session.flush()


def test_times_compare_in_utc_in_queries(app):
    with app.app_context():
        db.session.add(_user(deactivated_at=datetime(2026, 11, 21, 11, 0, tzinfo=UTC)))
        db.session.flush()
        later_elsewhere = datetime(2026, 11, 21, 12, 30, tzinfo=timezone(timedelta(hours=1)))
        found = db.session.scalars(select(User).where(User.deactivated_at < later_elsewhere))
        assert len(found.all()) == 1


def test_the_database_refuses_mixed_case_emails(app):
    with app.app_context():
        session = db.session
        with pytest.raises(IntegrityError, match="email_lower"), session.begin_nested():
            session.execute(
                text(
                    "INSERT INTO users (id, email, name, role, is_active, created_at, updated_at)"
                    " VALUES (:id, 'Mixed@Example.test', 'x', 'clinician', true,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": "0" * 32},
            )
