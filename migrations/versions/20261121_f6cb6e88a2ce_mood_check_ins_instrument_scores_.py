"""Mood check-ins, their instrument scores, and idempotency records.

Revision ID: f6cb6e88a2ce
Revises: 47b0f36f9683
Create Date: 2026-11-21 01:52:03.438544
"""

from alembic import op
import sqlalchemy as sa


revision = 'f6cb6e88a2ce'
down_revision = '47b0f36f9683'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_records',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.SmallInteger(), nullable=True),
    sa.Column('response_body', sa.LargeBinary(), nullable=True),
    sa.Column('response_headers', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_records_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_idempotency_records_user_id_key'))
    )
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_records_created_at'), ['created_at'], unique=False)

    op.create_table('mood_checkins',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mood', sa.SmallInteger(), nullable=False),
    sa.Column('anxiety', sa.SmallInteger(), nullable=True),
    sa.Column('sleep_hours', sa.Numeric(precision=3, scale=1, asdecimal=False), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('context', sa.Enum('daily', 'pre_session', 'post_session', name='checkin_context', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.CheckConstraint('anxiety IS NULL OR anxiety BETWEEN 0 AND 10', name=op.f('ck_mood_checkins_anxiety_range')),
    sa.CheckConstraint('mood BETWEEN 0 AND 10', name=op.f('ck_mood_checkins_mood_range')),
    sa.CheckConstraint('sleep_hours IS NULL OR sleep_hours BETWEEN 0 AND 24', name=op.f('ck_mood_checkins_sleep_hours_range')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_mood_checkins_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['treatment_sessions.id'], name=op.f('fk_mood_checkins_session_id_treatment_sessions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mood_checkins'))
    )
    with op.batch_alter_table('mood_checkins', schema=None) as batch_op:
        batch_op.create_index('ix_mood_checkins_patient_recorded', ['patient_id', 'recorded_at', 'id'], unique=False)
        batch_op.create_index('ix_mood_checkins_patient_updated', ['patient_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mood_checkins_session_id'), ['session_id'], unique=False)

    op.create_table('instrument_scores',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('checkin_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('instrument', sa.String(length=16), nullable=False),
    sa.Column('version', sa.String(length=16), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('total', sa.SmallInteger(), nullable=False),
    sa.Column('band', sa.String(length=32), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['checkin_id'], ['mood_checkins.id'], name=op.f('fk_instrument_scores_checkin_id_mood_checkins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_instrument_scores_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_scores'))
    )
    with op.batch_alter_table('instrument_scores', schema=None) as batch_op:
        batch_op.create_index('ix_instrument_scores_patient_instrument_recorded', ['patient_id', 'instrument', 'recorded_at', 'id'], unique=False)
        batch_op.create_index('uq_instrument_scores_checkin_instrument', ['checkin_id', 'instrument'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('instrument_scores', schema=None) as batch_op:
        batch_op.drop_index('uq_instrument_scores_checkin_instrument')
        batch_op.drop_index('ix_instrument_scores_patient_instrument_recorded')

    op.drop_table('instrument_scores')
    with op.batch_alter_table('mood_checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mood_checkins_session_id'))
        batch_op.drop_index('ix_mood_checkins_patient_updated')
        batch_op.drop_index('ix_mood_checkins_patient_recorded')

    op.drop_table('mood_checkins')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_created_at'))

    op.drop_table('idempotency_records')
