"""Revision 8d2f6a1b3c02 on alerts raised before it: priorities renumbered in the new order, an
overdue checkpoint's made-up source id (uuid5 of session and checkpoint) replaced by its
session and checkpoint, `session_id` filled from the note or check-in, escalation at 0; and
back again on downgrade. Run on a database of its own, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from config import load_config
from telehealth import create_app
from telehealth.extensions import db
from tests.databases import temporary_database

BEFORE, AFTER = "8d2f6a1b3c01", "8d2f6a1b3c02"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

# The tables as they stand at BEFORE, only the columns these rows fill.
users = sa.table(
    "users",
    *(sa.column(name, kind) for name, kind in (("id", sa.Uuid()), ("email", sa.String()))),
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
sessions = sa.table(
    "treatment_sessions",
    sa.column("id", sa.Uuid()),
    sa.column("patient_id", sa.Uuid()),
    sa.column("clinician_id", sa.Uuid()),
    sa.column("scheduled_start", sa.DateTime(timezone=True)),
    sa.column("scheduled_end", sa.DateTime(timezone=True)),
    sa.column("duration_minutes", sa.Integer()),
    sa.column("modality", sa.String()),
    sa.column("treatment_monitor_name", sa.String()),
    sa.column("treatment_monitor_phone", sa.String()),
    sa.column("status", sa.String()),
    sa.column("version", sa.Integer()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
notes = sa.table(
    "monitoring_notes",
    sa.column("id", sa.Uuid()),
    sa.column("session_id", sa.Uuid()),
    sa.column("patient_id", sa.Uuid()),
    sa.column("author_id", sa.Uuid()),
    sa.column("observed_at", sa.DateTime(timezone=True)),
    sa.column("side_effects", sa.JSON()),
    sa.column("text", sa.Text()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
checkins = sa.table(
    "mood_checkins",
    sa.column("id", sa.Uuid()),
    sa.column("patient_id", sa.Uuid()),
    sa.column("session_id", sa.Uuid()),
    sa.column("recorded_at", sa.DateTime(timezone=True)),
    sa.column("received_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("mood", sa.SmallInteger()),
    sa.column("context", sa.String()),
)
OLD_ALERT_COLUMNS = (
    ("id", sa.Uuid()),
    ("patient_id", sa.Uuid()),
    ("kind", sa.String()),
    ("priority", sa.SmallInteger()),
    ("status", sa.String()),
    ("source_type", sa.String()),
    ("source_id", sa.Uuid()),
    ("reason", sa.String()),
    ("created_at", sa.DateTime(timezone=True)),
    ("updated_at", sa.DateTime(timezone=True)),
)
old_alerts = sa.table("safety_alerts", *(sa.column(n, t) for n, t in OLD_ALERT_COLUMNS))
new_alerts = sa.table(
    "safety_alerts",
    *(sa.column(n, t) for n, t in OLD_ALERT_COLUMNS),
    sa.column("occurrence", sa.String()),
    sa.column("session_id", sa.Uuid()),
    sa.column("checkpoint", sa.String()),
    sa.column("escalation_level", sa.SmallInteger()),
    sa.column("escalated_at", sa.DateTime(timezone=True)),
)
# The priorities before the revision.
OLD_PRIORITY = {
    "suicidal_ideation": 1,
    "severe_score": 2,
    "deterioration": 3,
    "vital_sign": 4,
    "adverse_event": 5,
    "checkpoint_overdue": 6,
}


@pytest.fixture
def database() -> Iterator[Any]:
    """An app on a database of its own, migrated to BEFORE."""
    with temporary_database("telehealth_alert_migration") as url:
        app = create_app(load_config("test", DATABASE_URL=url))
        with app.app_context():
            upgrade(revision=BEFORE)
            try:
                yield app
            finally:
                db.engine.dispose()


def person(connection: sa.Connection, role: str) -> uuid.UUID:
    user_id = uuid.uuid4()
    connection.execute(
        users.insert().values(
            id=user_id,
            email=f"{user_id.hex}@example.test",
            name="Someone",
            role=role,
            is_active=True,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    if role == "patient":
        connection.execute(
            patients.insert().values(
                id=user_id,
                date_of_birth=datetime(1980, 1, 1).date(),
                timezone="UTC",
                emergency_contact_name="Em",
                emergency_contact_phone="+1 555 0100",
                version=1,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return user_id


def treatment(connection: sa.Connection, patient: uuid.UUID, clinician: uuid.UUID, days: int):
    session_id = uuid.uuid4()
    start = NOW - timedelta(days=days)
    connection.execute(
        sessions.insert().values(
            id=session_id,
            patient_id=patient,
            clinician_id=clinician,
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=2),
            duration_minutes=120,
            modality="video",
            treatment_monitor_name="Sam",
            treatment_monitor_phone="+1 555 0100",
            status="in_progress",
            version=1,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    return session_id


def alert(connection, patient, kind, source_type, source_id, minute) -> uuid.UUID:
    alert_id = uuid.uuid4()
    moment = NOW + timedelta(minutes=minute)
    connection.execute(
        old_alerts.insert().values(
            id=alert_id,
            patient_id=patient,
            kind=kind,
            priority=OLD_PRIORITY[kind],
            status="open",
            source_type=source_type,
            source_id=source_id,
            reason="Review.",
            created_at=moment,
            updated_at=moment,
        )
    )
    return alert_id


def rows(connection: sa.Connection, table: Any) -> dict[uuid.UUID, Any]:
    return {row.id: row for row in connection.execute(sa.select(table))}


def test_upgrading_renames_sources_fills_sessions_and_renumbers_and_downgrading_restores(database):
    with db.engine.begin() as connection:
        clinician = person(connection, "clinician")
        patient = person(connection, "patient")
        first = treatment(connection, patient, clinician, days=2)
        second = treatment(connection, patient, clinician, days=1)
        note_id, checkin_id, loose_checkin_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        connection.execute(
            notes.insert().values(
                id=note_id,
                session_id=second,
                patient_id=patient,
                author_id=clinician,
                observed_at=NOW,
                side_effects=[],
                text="x",
                created_at=NOW,
            )
        )
        for checkin, session_id in ((checkin_id, first), (loose_checkin_id, None)):
            connection.execute(
                checkins.insert().values(
                    id=checkin,
                    patient_id=patient,
                    session_id=session_id,
                    recorded_at=NOW,
                    received_at=NOW,
                    updated_at=NOW,
                    mood=3,
                    context="daily",
                )
            )
        made_up = {
            name: uuid.uuid5(session_id, name)
            for session_id, name in ((second, "plus_40_min"), (second, "end_of_session"))
        }
        ids = {
            "plus_40": alert(
                connection,
                patient,
                "checkpoint_overdue",
                "session_checkpoint",
                made_up["plus_40_min"],
                1,
            ),
            "end": alert(
                connection,
                patient,
                "checkpoint_overdue",
                "session_checkpoint",
                made_up["end_of_session"],
                2,
            ),
            "orphan": alert(
                connection, patient, "checkpoint_overdue", "session_checkpoint", uuid.uuid4(), 3
            ),
            "vital": alert(connection, patient, "vital_sign", "monitoring_note", note_id, 4),
            "adverse": alert(connection, patient, "adverse_event", "monitoring_note", note_id, 5),
            "si": alert(connection, patient, "suicidal_ideation", "checkin", checkin_id, 6),
            "severe": alert(connection, patient, "severe_score", "checkin", loose_checkin_id, 7),
            "det": alert(connection, patient, "deterioration", "checkin", loose_checkin_id, 8),
        }
        before = rows(connection, old_alerts)

    upgrade(revision=AFTER)

    with db.engine.connect() as connection:
        stored = rows(connection, new_alerts)
    after = {name: stored[alert_id] for name, alert_id in ids.items()}
    assert {name: row.priority for name, row in after.items()} == {
        "plus_40": 3,
        "end": 3,
        "orphan": 3,
        "vital": 4,
        "adverse": 2,
        "si": 1,
        "severe": 5,
        "det": 6,
    }
    for name in ("plus_40", "end"):
        row = after[name]
        assert (row.source_type, row.source_id, row.session_id) == ("session", second, second)
    assert (after["plus_40"].checkpoint, after["plus_40"].occurrence) == (
        "plus_40_min",
        "plus_40_min",
    )
    assert (after["end"].checkpoint, after["end"].occurrence) == (
        "end_of_session",
        "end_of_session",
    )
    # No session of the patient made the orphan's id: it keeps its old source, names nothing.
    orphan = after["orphan"]
    assert (orphan.source_type, orphan.session_id, orphan.occurrence) == (
        "session_checkpoint",
        None,
        "",
    )
    assert [after[name].session_id for name in ("vital", "adverse", "si", "severe", "det")] == [
        second,
        second,
        first,
        None,
        None,
    ]
    assert all(
        row.occurrence == "" for name, row in after.items() if name not in ("plus_40", "end")
    )
    assert {(row.escalation_level, row.escalated_at) for row in after.values()} == {(0, None)}

    downgrade(revision=BEFORE)

    with db.engine.connect() as connection:
        restored = rows(connection, old_alerts)
    assert restored == before


def test_the_new_key_keeps_one_alert_per_checkpoint_and_the_new_kind_is_accepted(database):
    upgrade(revision=AFTER)
    with db.engine.begin() as connection:
        clinician = person(connection, "clinician")
        patient = person(connection, "patient")
        session_id = treatment(connection, patient, clinician, days=1)

        def insert(kind: str, occurrence: str) -> None:
            connection.execute(
                new_alerts.insert().values(
                    id=uuid.uuid4(),
                    patient_id=patient,
                    kind=kind,
                    priority=3,
                    status="open",
                    source_type="session",
                    source_id=session_id,
                    reason="Review.",
                    created_at=NOW,
                    updated_at=NOW,
                    occurrence=occurrence,
                    escalation_level=0,
                )
            )

        insert("checkpoint_overdue", "plus_40_min")
        insert("checkpoint_overdue", "end_of_session")
        insert("missed_checkins", "")
        with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
            insert("checkpoint_overdue", "plus_40_min")
        with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
            insert("no_such_kind", "")

    # Refused (Flask-Migrate turns the revision's RuntimeError into exit status 1), nothing lost.
    with pytest.raises(SystemExit):
        downgrade(revision=BEFORE)
    with db.engine.connect() as connection:
        kinds = connection.scalars(sa.select(new_alerts.c.kind)).all()
        revision = connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
    assert sorted(kinds) == ["checkpoint_overdue", "checkpoint_overdue", "missed_checkins"]
    assert revision == AFTER
