"""Calendar subscriptions: a secret feed URL per clinician.

One row per clinician at most (the user id is the key), holding only the SHA-256 of the secret
in the URL that calendar apps fetch without a header. Rotating the URL replaces the hash;
revoking it, deactivating the clinician or ending all their sign-ins deletes the row.

Revision ID: 9c0d1e2f3a03
Revises: 9c0d1e2f3a02
Create Date: 2026-12-06 18:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '9c0d1e2f3a03'
down_revision = '9c0d1e2f3a02'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_subscriptions',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_calendar_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_calendar_subscriptions')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_calendar_subscriptions_secret_hash'))
    )


def downgrade() -> None:
    op.drop_table('calendar_subscriptions')
