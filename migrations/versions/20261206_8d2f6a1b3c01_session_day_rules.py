"""Session-day rules: a completion reason kept on the session.

A session completed without what the rules ask for (the end-of-session checkpoint once the
medication was taken, every note signed) keeps the clinician's reason on the record.

Revision ID: 8d2f6a1b3c01
Revises: 7c3d2e1f0a45
Create Date: 2026-12-06 15:30:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = '8d2f6a1b3c01'
down_revision = '7c3d2e1f0a45'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('treatment_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('completion_reason', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('treatment_sessions', schema=None) as batch_op:
        batch_op.drop_column('completion_reason')
