"""A care team is never empty: report patients without an active clinician.

The rule (every patient has at least one active clinician on the care team) is kept by the
service from now on. Records made before it may break it; which clinician should take such a
patient on is a clinical decision, so this revision changes nothing: it logs the ids of those
patients (ids only) for an admin to staff. `flask --app wsgi care-teams check` lists them too.

Revision ID: 8d2f6a1b3c03
Revises: 8d2f6a1b3c02
Create Date: 2026-12-06 15:30:00.000000
"""

import logging
import sys

import sqlalchemy as sa
from alembic import context, op


revision = '8d2f6a1b3c03'
down_revision = '8d2f6a1b3c02'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# The tables as this revision knows them (a revision never imports the app's models).
patients = sa.table("patients", sa.column("id", sa.Uuid()))
members = sa.table(
    "care_team_members", sa.column("patient_id", sa.Uuid()), sa.column("clinician_id", sa.Uuid())
)
users = sa.table(
    "users", sa.column("id", sa.Uuid()), sa.column("role", sa.String()), sa.column("is_active", sa.Boolean())
)


def patients_without_active_clinician(connection: sa.Connection) -> list[str]:
    has_active_clinician = (
        sa.select(members.c.patient_id)
        .join(users, users.c.id == members.c.clinician_id)
        .where(
            members.c.patient_id == patients.c.id,
            users.c.role == "clinician",
            users.c.is_active.is_(sa.true()),
        )
        .exists()
    )
    statement = sa.select(patients.c.id).where(~has_active_clinician).order_by(patients.c.id)
    return [str(patient_id) for patient_id in connection.execute(statement).scalars()]


def report(message: str) -> None:
    # Logged for whoever collects alembic's log, and printed: under `flask db upgrade` the app's
    # logging is set up and env.py leaves alembic's log without a handler that shows it.
    log.warning(message)
    print(f"WARNING: {message}", file=sys.stderr)


def upgrade() -> None:
    if context.is_offline_mode():
        report(
            "care teams: run `flask --app wsgi care-teams check` to find patients without "
            "an active clinician"
        )
        return
    unwatched = patients_without_active_clinician(op.get_bind())
    if unwatched:
        report(
            f"care teams: {len(unwatched)} patient(s) without an active clinician on their "
            "care team; add one to each (`flask --app wsgi care-teams check` lists them): "
            + ", ".join(unwatched)
        )


def downgrade() -> None:
    # Nothing was changed on the way up.
    pass
