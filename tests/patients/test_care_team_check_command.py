"""`flask care-teams check` lists the patients without an active clinician on their care team
(ids, one a line) and exits 1 when there are any, 0 otherwise; the migration that brought the
rule in (8d2f6a1b3c03) reports the same patients and changes nothing. No route can make such a
patient, so the tests make them directly in the database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, inspect, update

from config import load_config
from telehealth import create_app
from telehealth.accounts.models import Role, User
from telehealth.extensions import db
from telehealth.patients.models import CareTeamMember
from tests.databases import temporary_database
from tests.factories import make_patient, make_user

MIGRATION_LOG = "alembic.runtime.migration"
THIS_REVISION, PREVIOUS_REVISION = "8d2f6a1b3c03", "8d2f6a1b3c02"


def check(app):
    return app.test_cli_runner().invoke(args=["care-teams", "check"])


def set_inactive(app, user_id) -> None:
    with app.app_context(), db.begin() as session:
        session.execute(update(User).where(User.id == user_id).values(is_active=False))


def empty_team(app, patient_id) -> None:
    with app.app_context(), db.begin() as session:
        session.execute(delete(CareTeamMember).where(CareTeamMember.patient_id == patient_id))


def test_every_patient_watched_exits_0(app, world):
    result = check(app)

    assert result.exit_code == 0, result.output
    assert "every patient has an active clinician" in result.stdout
    assert world.patient.id not in result.output


def test_a_patient_whose_only_clinician_is_inactive_is_listed_and_exits_1(app, world):
    set_inactive(app, world.clinician.user.id)

    result = check(app)

    assert result.exit_code == 1
    assert result.stdout.split() == [world.patient.id]
    assert "1 patient(s) without an active clinician" in result.stderr
    assert world.patient.user.name not in result.output
    assert world.other_patient.id not in result.output


def test_every_unwatched_patient_is_listed_in_id_order(app, world):
    set_inactive(app, world.clinician.user.id)
    empty_team(app, world.other_patient.user.id)

    result = check(app)

    assert result.exit_code == 1
    assert result.stdout.split() == sorted([world.patient.id, world.other_patient.id])


def test_an_inactive_clinician_beside_an_active_one_is_fine(app, client, world):
    url = f"/api/v1/patients/{world.patient.id}/care-team/{world.lone_clinician.id}"
    assert client.put(url, headers=world.admin.headers).status_code == 200
    set_inactive(app, world.clinician.user.id)

    result = check(app)

    assert result.exit_code == 0, result.output


def schema() -> dict[str, list[tuple[str, str, bool]]]:
    """Every table's columns (name, type, nullable), in the app context's database."""
    inspector = inspect(db.engine)
    return {
        table: [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)]
        for table in inspector.get_table_names()
    }


@contextmanager
def migration_warnings() -> Iterator[list[str]]:
    """The warnings logged while the block runs migrations."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                messages.append(record.getMessage())

    logger = logging.getLogger(MIGRATION_LOG)
    handler, level = Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_the_migration_reports_unwatched_patients_and_changes_nothing():
    with temporary_database("telehealth_care_team_migration") as url:
        app = create_app(load_config("test", DATABASE_URL=url))
        with app.app_context():
            upgrade()
        clinician = make_user(app, Role.CLINICIAN, name="Dr. Leaving")
        watched = make_patient(app, clinician, name="Wendy Watched")
        unwatched = make_patient(app, clinician, name="Una Unwatched")
        backup = make_user(app, Role.CLINICIAN, name="Dr. Backup")
        with app.app_context(), db.begin() as session:
            session.add(CareTeamMember(patient_id=watched.id, clinician_id=backup.id))
        set_inactive(app, clinician.id)
        with app.app_context():
            schema_before = schema()
            downgrade(revision=PREVIOUS_REVISION)

            with migration_warnings() as warnings:
                upgrade(revision=THIS_REVISION)

            [warning] = warnings
            assert str(unwatched.id) in warning
            assert str(watched.id) not in warning
            assert "Una Unwatched" not in warning
            upgrade()  # the revisions after this one, back to the head
            assert schema() == schema_before
            db.engine.dispose()
        assert check(app).stdout.split() == [str(unwatched.id)]
        with app.app_context():
            db.engine.dispose()


def test_the_migration_is_quiet_when_every_patient_is_watched():
    with temporary_database("telehealth_care_team_migration") as url:
        app = create_app(load_config("test", DATABASE_URL=url))
        with app.app_context():
            upgrade()
        make_patient(app, make_user(app, Role.CLINICIAN, name="Dr. Staying"))
        with app.app_context():
            downgrade(revision=PREVIOUS_REVISION)
            with migration_warnings() as warnings:
                upgrade()
            assert warnings == []
            db.engine.dispose()
        assert check(app).exit_code == 0
        with app.app_context():
            db.engine.dispose()
