"""Foundation: accounts, invitations, token families, patients, care teams, audit events.

Revision ID: 9944f8588834
Revises: 
Create Date: 2026-11-21 01:12:41.262203
"""

from alembic import op
import sqlalchemy as sa


revision = '9944f8588834'
down_revision = None
branch_labels = None
depends_on = None


# The audit trail is append-only in the database as well as in the ORM.
APPEND_ONLY = {
    "postgresql": [
        """
        CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'audit_events is append-only';
        END;
        $$ LANGUAGE plpgsql
        """,
        """
        CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
        """,
    ],
    "sqlite": [
        """
        CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END
        """,
        """
        CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END
        """,
    ],
}
DROP_APPEND_ONLY = {
    "postgresql": [
        "DROP TRIGGER audit_events_append_only ON audit_events",
        "DROP FUNCTION audit_events_append_only()",
    ],
    "sqlite": ["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"],
}


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('resource_type', sa.String(length=32), nullable=False),
    sa.Column('resource_id', sa.String(length=64), nullable=True),
    sa.Column('patient_id', sa.Uuid(), nullable=True),
    sa.Column('outcome', sa.Enum('success', 'denied', 'failed', name='outcome', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status_code', sa.SmallInteger(), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_actor_occurred', ['actor_id', 'occurred_at', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_occurred', ['occurred_at', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_patient_occurred', ['patient_id', 'occurred_at', 'id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('admin', 'clinician', 'patient', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_users_email_lower')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('invitations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_invitations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_user_id'), ['user_id'], unique=False)

    op.create_table('patients',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('emergency_contact_name', sa.String(length=200), nullable=False),
    sa.Column('emergency_contact_phone', sa.String(length=32), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_patients_created_by_id_users')),
    sa.ForeignKeyConstraint(['id'], ['users.id'], name=op.f('fk_patients_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients'))
    )
    op.create_table('token_families',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('current_jti', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_token_families_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_token_families'))
    )
    with op.batch_alter_table('token_families', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_token_families_user_id'), ['user_id'], unique=False)

    op.create_table('care_team_members',
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('clinician_id', sa.Uuid(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_care_team_members_added_by_id_users')),
    sa.ForeignKeyConstraint(['clinician_id'], ['users.id'], name=op.f('fk_care_team_members_clinician_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_care_team_members_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patient_id', 'clinician_id', name=op.f('pk_care_team_members'))
    )
    with op.batch_alter_table('care_team_members', schema=None) as batch_op:
        batch_op.create_index('ix_care_team_members_clinician_patient', ['clinician_id', 'patient_id'], unique=False)

    for statement in APPEND_ONLY[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_APPEND_ONLY[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table('care_team_members', schema=None) as batch_op:
        batch_op.drop_index('ix_care_team_members_clinician_patient')

    op.drop_table('care_team_members')
    with op.batch_alter_table('token_families', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_token_families_user_id'))

    op.drop_table('token_families')
    op.drop_table('patients')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_user_id'))

    op.drop_table('invitations')
    op.drop_table('users')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_patient_occurred')
        batch_op.drop_index('ix_audit_events_occurred')
        batch_op.drop_index('ix_audit_events_actor_occurred')

    op.drop_table('audit_events')
