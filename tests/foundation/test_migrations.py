"""The migrations build exactly the schema the models describe, and run both ways."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from config import load_config
from telehealth import create_app
from telehealth.db import Base
from telehealth.extensions import db
from tests.databases import temporary_database

APP_TABLES = {
    "mood_checkins",
    "instrument_scores",
    "idempotency_records",
    "treatment_sessions",
    "monitoring_notes",
    "safety_alerts",
    "users",
    "invitations",
    "token_families",
    "patients",
    "care_team_members",
    "audit_events",
}


def _schema_drift(app) -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade_and_no_drift():
    with temporary_database("telehealth_migrations") as url:
        app = create_app(load_config("test", DATABASE_URL=url))
        with app.app_context():
            upgrade()
            assert APP_TABLES <= _tables()
            assert _schema_drift(app) == []

            downgrade(revision="base")
            assert _tables() == set()

            upgrade()
            assert _schema_drift(app) == []

            # The check can fail: a missing index is drift.
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP INDEX ix_audit_events_occurred")
            assert _schema_drift(app) != []
            db.engine.dispose()
