"""Revision 9a1b2c3d4e04 on patients who existed before it: each gets the default plan, from
their own local today, with reminders on; downgrade drops the tables. Run on a database of its
own, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from config import load_config
from telehealth import create_app
from telehealth.extensions import db
from tests.databases import temporary_database

BEFORE, AFTER = "9a1b2c3d4e03", "9a1b2c3d4e04"
NOW = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)

users = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("email", sa.String()),
    sa.column("name", sa.String()),
    sa.column("role", sa.String()),
    sa.column("is_active", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
patients = sa.table(
    "patients",
    sa.column("id", sa.Uuid()),
    sa.column("date_of_birth", sa.Date()),
    sa.column("timezone", sa.String()),
    sa.column("emergency_contact_name", sa.String()),
    sa.column("emergency_contact_phone", sa.String()),
    sa.column("version", sa.Integer()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


@pytest.fixture
def database() -> Iterator[Any]:
    """An app on a database of its own, migrated to BEFORE."""
    with temporary_database("telehealth_schedule_migration") as url:
        app = create_app(load_config("test", DATABASE_URL=url))
        with app.app_context():
            upgrade(revision=BEFORE)
            try:
                yield app
            finally:
                db.engine.dispose()


def patient(connection: sa.Connection, zone: str) -> uuid.UUID:
    user_id = uuid.uuid4()
    connection.execute(
        users.insert().values(
            id=user_id, email=f"{user_id.hex}@example.test", name="Someone", role="patient",
            is_active=True, created_at=NOW, updated_at=NOW,
        )
    )  # fmt: skip
    connection.execute(
        patients.insert().values(
            id=user_id, date_of_birth=date(1980, 1, 1), timezone=zone,
            emergency_contact_name="Em", emergency_contact_phone="+1 555 0100", version=1,
            created_at=NOW, updated_at=NOW,
        )
    )  # fmt: skip
    return user_id


def test_every_patient_gets_the_default_plan_from_their_local_today(database):
    with db.engine.begin() as connection:
        new_york = patient(connection, "America/New_York")
        auckland = patient(connection, "Pacific/Auckland")  # already the 2nd there

    upgrade(revision=AFTER)

    with db.engine.connect() as connection:
        plans = connection.execute(
            sa.text("SELECT patient_id, reminders, version FROM checkin_plans")
        ).all()
        items = connection.execute(
            sa.text(
                "SELECT patient_id, position, instrument, every, at, weekday, day, starts_on "
                "FROM checkin_plan_items ORDER BY patient_id, position"
            )
        ).all()
    assert sorted((uuid.UUID(str(p)), bool(r), v) for p, r, v in plans) == sorted(
        [(new_york, True, 1), (auckland, True, 1)]
    )
    by_patient: dict[uuid.UUID, list[tuple[Any, ...]]] = {}
    for row in items:
        by_patient.setdefault(uuid.UUID(str(row[0])), []).append(tuple(row[1:]))
    for who, today in ((new_york, date(2026, 12, 1)), (auckland, date(2026, 12, 2))):
        rows = [
            (position, instrument, every, _time(at), weekday, day, _date(starts_on))
            for position, instrument, every, at, weekday, day, starts_on in by_patient[who]
        ]
        assert rows == [
            (0, "mood", "day", time(9), None, None, today),
            (1, "PHQ-9", "week", time(9), 0, None, today),
            (2, "GAD-7", "week", time(9), 0, None, today),
            (3, "PCL-5", "month", time(9), None, 1, today),
        ]


def test_downgrade_drops_the_tables(database):
    with db.engine.begin() as connection:
        patient(connection, "Europe/Berlin")
    upgrade(revision=AFTER)

    downgrade(revision=BEFORE)

    tables = set(sa.inspect(db.engine).get_table_names())
    assert not tables & {"checkin_plans", "checkin_plan_items", "checkin_reminders"}


def _time(value: Any) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
