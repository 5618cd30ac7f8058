"""Webhook endpoints of the clinic's systems.

One row per endpoint an admin registers (URL, subscribed event types, signing secret). A
deleted endpoint keeps its row (`deleted_at`), so its deliveries log stays readable; its
deliveries are rows of `deliveries` (channel `webhook`, `target_id` the endpoint).

Revision ID: 9a1b2c3d4e02
Revises: 9a1b2c3d4e01
Create Date: 2026-12-06 16:00:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = '9a1b2c3d4e02'
down_revision = '9a1b2c3d4e01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_endpoints',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )


def downgrade() -> None:
    op.drop_table('webhook_endpoints')
