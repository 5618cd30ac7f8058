"""Email: no table of its own. Its deliveries are rows of the deliveries log (9a1b2c3d4e01),
and the invitation tokens its emails carry are rows of `invitations`; this revision changes
nothing and is kept so the chain of revisions stays as planned.

Revision ID: 9a1b2c3d4e03
Revises: 9a1b2c3d4e02
Create Date: 2026-12-06 16:00:00.000000
"""


revision = '9a1b2c3d4e03'
down_revision = '9a1b2c3d4e02'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # nothing to change: see the docstring


def downgrade() -> None:
    pass  # nothing to undo
