"""Audit events become a hash chain: sequence, prev_hash, hash.

Events written before this revision stay outside the chain (their columns are null).

Revision ID: 444708c2b2e7
Revises: f6cb6e88a2ce
Create Date: 2026-11-21 01:55:05.749131
"""

from alembic import op
import sqlalchemy as sa


revision = '444708c2b2e7'
down_revision = 'f6cb6e88a2ce'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch_op.create_index('uq_audit_events_sequence', ['sequence'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('uq_audit_events_sequence')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('sequence')

    if op.get_bind().dialect.name == "sqlite":
        # Dropping columns makes SQLite rebuild the table, which loses its triggers.
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS audit_events_no_{action.lower()} BEFORE {action} "
                "ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )

