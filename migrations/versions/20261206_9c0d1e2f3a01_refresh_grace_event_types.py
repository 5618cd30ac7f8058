"""A refresh token retried within a few seconds answers the same pair; two new event types.

`token_families.previous_jti` and `rotated_at` remember the refresh token a family spent last
and when, so that a phone retrying one refresh on a bad network (several requests with the same
token, all sent before the first answer arrived) gets the family's current pair back instead of
ending the sign-in. After the grace window the old token is a reused one, and revokes the family
as before.

The outbox learns `audit.anchor` (a signed head of the audit trail, for the clinic's systems to
keep outside the database) and `account.password_reset` (a reset link, emailed to its owner
only). Both enum columns are short strings with a CHECK constraint, which is replaced.

Revision ID: 9c0d1e2f3a01
Revises: 9b2c3d4e5f01
Create Date: 2026-12-06 18:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '9c0d1e2f3a01'
down_revision = '9b2c3d4e5f01'
branch_labels = None
depends_on = None

BEFORE = (
    'alert.raised', 'alert.escalated', 'alert.acknowledged', 'checkin.submitted', 'checkin.due',
    'checkin.missed', 'session.scheduled', 'session.changed', 'session.reminder',
    'checkpoint.overdue', 'account.invited',
)
AFTER = BEFORE + ('audit.anchor', 'account.password_reset')

#: (table, column, the enum's name: its CHECK constraint is ck_<table>_<name>)
ENUM_COLUMNS = (
    ('outbox_events', 'type', 'event_type'),
    ('notifications', 'kind', 'notification_kind'),
)


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _replace_checks(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    for table, column, name in ENUM_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=_enum(old, name),
                type_=_enum(new, name),
                existing_nullable=False,
            )
        if op.get_bind().dialect.name == 'postgresql':
            # Outside batch mode Alembic leaves the old CHECK in place: swap it by hand.
            constraint = f'ck_{table}_{name}'
            listed = ', '.join(f"'{value}'" for value in new)
            op.execute(f'ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {constraint}')
            op.execute(f'ALTER TABLE {table} ADD CONSTRAINT {constraint} CHECK ({column} IN ({listed}))')


def upgrade() -> None:
    with op.batch_alter_table('token_families', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_jti', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True))
    _replace_checks(BEFORE, AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE kind IN ('audit.anchor', 'account.password_reset')")
    op.execute("DELETE FROM outbox_events WHERE type IN ('audit.anchor', 'account.password_reset')")
    _replace_checks(AFTER, BEFORE)
    with op.batch_alter_table('token_families', schema=None) as batch_op:
        batch_op.drop_column('rotated_at')
        batch_op.drop_column('previous_jti')
