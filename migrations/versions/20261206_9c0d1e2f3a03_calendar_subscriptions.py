"""Calendar subscriptions: a secret feed URL per clinician (filled in by the calendar work)

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
    pass


def downgrade() -> None:
    pass
