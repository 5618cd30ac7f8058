"""The outbox, the inbox and the deliveries log; session reminders sent.

An event is written to `outbox_events` in the transaction of the change that causes it; the
worker fans it out into `notifications` (the in-app inbox) and `deliveries` (email, webhooks),
each unique per event and target so that it happens once.

Revision ID: 9a1b2c3d4e01
Revises: 8d2f6a1b3c03
Create Date: 2026-12-06 16:00:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = '9a1b2c3d4e01'
down_revision = '8d2f6a1b3c03'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.Enum('alert.raised', 'alert.escalated', 'alert.acknowledged', 'checkin.submitted', 'checkin.due', 'checkin.missed', 'session.scheduled', 'session.changed', 'session.reminder', 'checkpoint.overdue', 'account.invited', name='event_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fanned_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events'))
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_events_pending', ['fanned_out_at', 'created_at'], unique=False)

    op.create_table('deliveries',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.Enum('email', 'webhook', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('target_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'delivered', 'failed', name='delivery_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), nullable=False),
    sa.Column('last_status_code', sa.SmallInteger(), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('leased_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_deliveries_attempts_not_negative')),
    sa.ForeignKeyConstraint(['event_id'], ['outbox_events.id'], name=op.f('fk_deliveries_event_id_outbox_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('event_id', 'channel', 'target_id', name=op.f('uq_deliveries_event_id_channel_target_id'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_deliveries_target_created', ['target_id', 'created_at', 'id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('alert.raised', 'alert.escalated', 'alert.acknowledged', 'checkin.submitted', 'checkin.due', 'checkin.missed', 'session.scheduled', 'session.changed', 'session.reminder', 'checkpoint.overdue', 'account.invited', name='notification_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.String(length=1000), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=True),
    sa.Column('session_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['outbox_events.id'], name=op.f('fk_notifications_event_id_outbox_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('user_id', 'event_id', name=op.f('uq_notifications_user_id_event_id'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_created', ['user_id', 'created_at', 'id'], unique=False)

    op.create_table('session_reminders',
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('hours_before', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['treatment_sessions.id'], name=op.f('fk_session_reminders_session_id_treatment_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'hours_before', name=op.f('pk_session_reminders'))
    )


def downgrade() -> None:
    op.drop_table('session_reminders')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_created')

    op.drop_table('notifications')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_target_created')
        batch_op.drop_index('ix_deliveries_due')

    op.drop_table('deliveries')
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_events_pending')

    op.drop_table('outbox_events')
