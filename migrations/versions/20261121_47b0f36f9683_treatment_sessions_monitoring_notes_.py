"""Treatment sessions and their transitions, monitoring notes, amendments, adverse events,
safety alerts.

Revision ID: 47b0f36f9683
Revises: 9944f8588834
Create Date: 2026-11-21 01:17:58.934502
"""

from alembic import op
import sqlalchemy as sa


revision = '47b0f36f9683'
down_revision = '9944f8588834'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('safety_alerts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('suicidal_ideation', 'severe_score', 'deterioration', 'vital_sign', 'adverse_event', 'checkpoint_overdue', name='alert_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.Enum('open', 'acknowledged', name='alert_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('source_type', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_by_id', sa.Uuid(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_safety_alerts_acknowledged_by_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_safety_alerts_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_alerts')),
    sa.UniqueConstraint('source_type', 'source_id', 'kind', name=op.f('uq_safety_alerts_source_type_source_id_kind'))
    )
    with op.batch_alter_table('safety_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_safety_alerts_patient_status', ['patient_id', 'status', 'priority', 'created_at'], unique=False)
        batch_op.create_index('ix_safety_alerts_status_priority', ['status', 'priority', 'created_at', 'id'], unique=False)

    op.create_table('treatment_sessions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('clinician_id', sa.Uuid(), nullable=False),
    sa.Column('scheduled_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('scheduled_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('modality', sa.Enum('video', 'phone', name='modality', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('treatment_monitor_name', sa.String(length=200), nullable=False),
    sa.Column('treatment_monitor_phone', sa.String(length=32), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('scheduled', 'in_progress', 'completed', 'cancelled', 'no_show', name='session_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('medication_taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('medication_recorded_by_id', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('duration_minutes BETWEEN 15 AND 480', name=op.f('ck_treatment_sessions_duration_range')),
    sa.CheckConstraint('scheduled_end > scheduled_start', name=op.f('ck_treatment_sessions_end_after_start')),
    sa.ForeignKeyConstraint(['clinician_id'], ['users.id'], name=op.f('fk_treatment_sessions_clinician_id_users')),
    sa.ForeignKeyConstraint(['medication_recorded_by_id'], ['users.id'], name=op.f('fk_treatment_sessions_medication_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_treatment_sessions_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treatment_sessions'))
    )
    with op.batch_alter_table('treatment_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_treatment_sessions_clinician_start', ['clinician_id', 'scheduled_start', 'id'], unique=False)
        batch_op.create_index('ix_treatment_sessions_patient_start', ['patient_id', 'scheduled_start', 'id'], unique=False)
        batch_op.create_index('ix_treatment_sessions_updated', ['updated_at', 'id'], unique=False)

    op.create_table('monitoring_notes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('checkpoint', sa.Enum('pre_session', 'plus_40_min', 'end_of_session', name='checkpoint', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('systolic', sa.SmallInteger(), nullable=True),
    sa.Column('diastolic', sa.SmallInteger(), nullable=True),
    sa.Column('heart_rate', sa.SmallInteger(), nullable=True),
    sa.Column('spo2', sa.SmallInteger(), nullable=True),
    sa.Column('respiratory_rate', sa.SmallInteger(), nullable=True),
    sa.Column('temperature', sa.Numeric(precision=4, scale=1, asdecimal=False), nullable=True),
    sa.Column('sedation', sa.SmallInteger(), nullable=True),
    sa.Column('dissociation', sa.Enum('none', 'mild', 'moderate', 'severe', name='dissociation', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('side_effects', sa.JSON(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('diastolic IS NULL OR diastolic BETWEEN 20 AND 200', name=op.f('ck_monitoring_notes_diastolic_range')),
    sa.CheckConstraint('heart_rate IS NULL OR heart_rate BETWEEN 20 AND 300', name=op.f('ck_monitoring_notes_heart_rate_range')),
    sa.CheckConstraint('respiratory_rate IS NULL OR respiratory_rate BETWEEN 4 AND 80', name=op.f('ck_monitoring_notes_respiratory_rate_range')),
    sa.CheckConstraint('sedation IS NULL OR sedation BETWEEN 0 AND 5', name=op.f('ck_monitoring_notes_sedation_range')),
    sa.CheckConstraint('spo2 IS NULL OR spo2 BETWEEN 50 AND 100', name=op.f('ck_monitoring_notes_spo2_range')),
    sa.CheckConstraint('systolic IS NULL OR diastolic IS NULL OR systolic > diastolic', name=op.f('ck_monitoring_notes_systolic_above_diastolic')),
    sa.CheckConstraint('systolic IS NULL OR systolic BETWEEN 50 AND 300', name=op.f('ck_monitoring_notes_systolic_range')),
    sa.CheckConstraint('temperature IS NULL OR temperature BETWEEN 30 AND 45', name=op.f('ck_monitoring_notes_temperature_range')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_monitoring_notes_author_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_monitoring_notes_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['treatment_sessions.id'], name=op.f('fk_monitoring_notes_session_id_treatment_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_notes'))
    )
    with op.batch_alter_table('monitoring_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_notes_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_monitoring_notes_session_observed', ['session_id', 'observed_at', 'id'], unique=False)

    op.create_table('session_transitions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('from_status', sa.Enum('scheduled', 'in_progress', 'completed', 'cancelled', 'no_show', name='from_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('to_status', sa.Enum('scheduled', 'in_progress', 'completed', 'cancelled', 'no_show', name='to_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_session_transitions_actor_id_users')),
    sa.ForeignKeyConstraint(['session_id'], ['treatment_sessions.id'], name=op.f('fk_session_transitions_session_id_treatment_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_transitions'))
    )
    with op.batch_alter_table('session_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_transitions_session_id'), ['session_id'], unique=False)

    op.create_table('adverse_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('note_id', sa.Uuid(), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('severity', sa.Enum('mild', 'moderate', 'severe', name='severity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('serious', sa.Boolean(), nullable=False),
    sa.Column('emergency_care', sa.Boolean(), nullable=False),
    sa.Column('action_taken', sa.String(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['note_id'], ['monitoring_notes.id'], name=op.f('fk_adverse_events_note_id_monitoring_notes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adverse_events')),
    sa.UniqueConstraint('note_id', name=op.f('uq_adverse_events_note_id'))
    )
    op.create_table('note_amendments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('note_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_note_amendments_author_id_users')),
    sa.ForeignKeyConstraint(['note_id'], ['monitoring_notes.id'], name=op.f('fk_note_amendments_note_id_monitoring_notes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_note_amendments'))
    )
    with op.batch_alter_table('note_amendments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_note_amendments_note_id'), ['note_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('note_amendments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_note_amendments_note_id'))

    op.drop_table('note_amendments')
    op.drop_table('adverse_events')
    with op.batch_alter_table('session_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_transitions_session_id'))

    op.drop_table('session_transitions')
    with op.batch_alter_table('monitoring_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_monitoring_notes_session_observed')
        batch_op.drop_index(batch_op.f('ix_monitoring_notes_patient_id'))

    op.drop_table('monitoring_notes')
    with op.batch_alter_table('treatment_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_treatment_sessions_updated')
        batch_op.drop_index('ix_treatment_sessions_patient_start')
        batch_op.drop_index('ix_treatment_sessions_clinician_start')

    op.drop_table('treatment_sessions')
    with op.batch_alter_table('safety_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_safety_alerts_status_priority')
        batch_op.drop_index('ix_safety_alerts_patient_status')

    op.drop_table('safety_alerts')
