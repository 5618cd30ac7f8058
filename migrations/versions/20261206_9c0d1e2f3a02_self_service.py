"""Self-service: password reset tokens (filled in by the self-service work)

Revision ID: 9c0d1e2f3a02
Revises: 9c0d1e2f3a01
Create Date: 2026-12-06 18:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '9c0d1e2f3a02'
down_revision = '9c0d1e2f3a01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
