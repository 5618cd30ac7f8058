"""Alerts a clinician can act on: priority order, resolvable source, session, escalation.

- `priority` follows the clinical reference's new order (suicidal ideation, adverse event,
  overdue checkpoint, vital sign, severe score, deterioration, missed check-ins); the kind's
  CHECK takes the new kind `missed_checkins`. Existing rows are renumbered by kind.
- An overdue checkpoint's alert named a made-up id, uuid5(session id, checkpoint), that no
  route opens; it now names the session (`source_type` "session") and the checkpoint. One
  session can have several overdue checkpoints, so the one-alert-per-trigger key gains
  `occurrence` (the checkpoint's name; '' for every other alert): NOT NULL, because NULLs
  never collide in a unique key.
- `session_id` on every alert whose trigger came from a session: a note's session, a
  check-in's session where it names one, an overdue checkpoint's session.
- `escalation_level` (0..2, 0 for every existing alert) and `escalated_at`.

Revision ID: 8d2f6a1b3c02
Revises: 8d2f6a1b3c01
Create Date: 2026-12-06 15:30:00.000000
"""

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op


revision = '8d2f6a1b3c02'
down_revision = '8d2f6a1b3c01'
branch_labels = None
depends_on = None

# Kinds in priority order, before and after: the position is the priority.
OLD_KINDS = (
    'suicidal_ideation', 'severe_score', 'deterioration', 'vital_sign', 'adverse_event',
    'checkpoint_overdue',
)
NEW_KINDS = (
    'suicidal_ideation', 'adverse_event', 'checkpoint_overdue', 'vital_sign', 'severe_score',
    'deterioration', 'missed_checkins',
)
CHECKPOINTS = ('pre_session', 'plus_40_min', 'end_of_session')
OLD_CHECKPOINT_SOURCE = 'session_checkpoint'
SESSION_SOURCE = 'session'
OLD_KEY = 'uq_safety_alerts_source_type_source_id_kind'
NEW_KEY = 'uq_safety_alerts_source_type_source_id_kind_occurrence'

alerts = sa.table(
    'safety_alerts',
    sa.column('id', sa.Uuid()),
    sa.column('patient_id', sa.Uuid()),
    sa.column('kind', sa.String()),
    sa.column('priority', sa.SmallInteger()),
    sa.column('source_type', sa.String()),
    sa.column('source_id', sa.Uuid()),
    sa.column('occurrence', sa.String()),
    sa.column('session_id', sa.Uuid()),
    sa.column('checkpoint', sa.String()),
)
sessions = sa.table('treatment_sessions', sa.column('id', sa.Uuid()), sa.column('patient_id', sa.Uuid()))
notes = sa.table('monitoring_notes', sa.column('id', sa.Uuid()), sa.column('session_id', sa.Uuid()))
checkins = sa.table('mood_checkins', sa.column('id', sa.Uuid()), sa.column('session_id', sa.Uuid()))


def kind_type(kinds: Sequence[str]) -> sa.Enum:
    return sa.Enum(*kinds, name='alert_kind', native_enum=False, create_constraint=True, length=32)


def checkpoint_type() -> sa.Enum:
    return sa.Enum(*CHECKPOINTS, name='checkpoint', native_enum=False, create_constraint=True, length=32)


def chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def upgrade() -> None:
    with op.batch_alter_table('safety_alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('occurrence', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('session_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('checkpoint', checkpoint_type(), nullable=True))
        batch_op.add_column(sa.Column('escalation_level', sa.SmallInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            op.f('fk_safety_alerts_session_id_treatment_sessions'),
            'treatment_sessions', ['session_id'], ['id'], ondelete='SET NULL',
        )
        batch_op.create_check_constraint(
            op.f('ck_safety_alerts_escalation_level_range'), 'escalation_level BETWEEN 0 AND 2'
        )
        # Dropped before the rewrite: a session's overdue checkpoints share its id as source.
        batch_op.drop_constraint(op.f(OLD_KEY), type_='unique')
        batch_op.alter_column(
            'kind', existing_type=kind_type(OLD_KINDS), type_=kind_type(NEW_KINDS), existing_nullable=False
        )

    bind = op.get_bind()
    renumber(bind, NEW_KINDS)
    for source_type, table in (('monitoring_note', notes), ('checkin', checkins)):
        bind.execute(
            alerts.update()
            .where(alerts.c.source_type == source_type)
            .values(session_id=sa.select(table.c.session_id).where(table.c.id == alerts.c.source_id).scalar_subquery())
        )
    name_checkpoint_sessions(bind)

    # The defaults served the existing rows; new rows get theirs from the application.
    with op.batch_alter_table('safety_alerts', schema=None) as batch_op:
        batch_op.alter_column('occurrence', existing_type=sa.String(length=64), existing_nullable=False, server_default=None)
        batch_op.alter_column('escalation_level', existing_type=sa.SmallInteger(), existing_nullable=False, server_default=None)
        batch_op.create_unique_constraint(op.f(NEW_KEY), ['source_type', 'source_id', 'kind', 'occurrence'])


def renumber(bind: sa.Connection, kinds: Sequence[str]) -> None:
    for priority, kind in enumerate(kinds, start=1):
        bind.execute(alerts.update().where(alerts.c.kind == kind).values(priority=priority))


def name_checkpoint_sessions(bind: sa.Connection) -> None:
    """Each old overdue-checkpoint alert: find the session and checkpoint whose uuid5 was its
    source id among its patient's sessions, and name them. An alert whose session is gone
    (none matches) keeps its old source: it names nothing either way."""
    old = bind.execute(
        sa.select(alerts.c.id, alerts.c.patient_id, alerts.c.source_id).where(
            alerts.c.source_type == OLD_CHECKPOINT_SOURCE
        )
    ).all()
    if not old:
        return
    named: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
    for patient_ids in chunks(sorted({row.patient_id for row in old})):
        for (session_id,) in bind.execute(sa.select(sessions.c.id).where(sessions.c.patient_id.in_(patient_ids))):
            for checkpoint in CHECKPOINTS:
                named[uuid.uuid5(session_id, checkpoint)] = (session_id, checkpoint)
    changes = [
        {'alert_id': row.id, 'new_session_id': named[row.source_id][0], 'new_checkpoint': named[row.source_id][1]}
        for row in old
        if row.source_id in named
    ]
    if changes:
        bind.execute(
            alerts.update()
            .where(alerts.c.id == sa.bindparam('alert_id'))
            .values(
                source_type=SESSION_SOURCE,
                source_id=sa.bindparam('new_session_id'),
                session_id=sa.bindparam('new_session_id'),
                checkpoint=sa.bindparam('new_checkpoint'),
                occurrence=sa.bindparam('new_checkpoint'),
            ),
            changes,
        )


def downgrade() -> None:
    bind = op.get_bind()
    missed = bind.scalar(sa.select(sa.func.count()).select_from(alerts).where(alerts.c.kind == 'missed_checkins'))
    if missed:
        raise RuntimeError(
            f'{missed} missed_checkins alerts exist, a kind the previous revision cannot store; '
            'they are clinical records and are not deleted by a downgrade.'
        )
    with op.batch_alter_table('safety_alerts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(NEW_KEY), type_='unique')

    overdue = bind.execute(
        sa.select(alerts.c.id, alerts.c.source_id, alerts.c.occurrence).where(
            alerts.c.source_type == SESSION_SOURCE, alerts.c.occurrence != ''
        )
    ).all()
    if overdue:
        bind.execute(
            alerts.update()
            .where(alerts.c.id == sa.bindparam('alert_id'))
            .values(source_type=OLD_CHECKPOINT_SOURCE, source_id=sa.bindparam('old_source_id')),
            [{'alert_id': row.id, 'old_source_id': uuid.uuid5(row.source_id, row.occurrence)} for row in overdue],
        )
    renumber(bind, OLD_KINDS)

    with op.batch_alter_table('safety_alerts', schema=None) as batch_op:
        batch_op.alter_column(
            'kind', existing_type=kind_type(NEW_KINDS), type_=kind_type(OLD_KINDS), existing_nullable=False
        )
        batch_op.create_unique_constraint(op.f(OLD_KEY), ['source_type', 'source_id', 'kind'])
        batch_op.drop_constraint(op.f('ck_safety_alerts_escalation_level_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_safety_alerts_checkpoint'), type_='check')
        batch_op.drop_constraint(op.f('fk_safety_alerts_session_id_treatment_sessions'), type_='foreignkey')
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('escalation_level')
        batch_op.drop_column('checkpoint')
        batch_op.drop_column('session_id')
        batch_op.drop_column('occurrence')
