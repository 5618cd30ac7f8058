"""The audit trail as a hash chain: each event's hash covers its content and the hash before
it, so changing, removing or reordering any event breaks every link after it.

On PostgreSQL the database links each event as its transaction commits, under a lock, so the
chain stays linear with any number of app instances (SQLite's transactions are serialized).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass

from sqlalchemy import Text, func, insert, literal, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from telehealth.audit.models import AuditEvent
from telehealth.db import new_id, table_of, utcnow

GENESIS = "0" * 64
#: The key of the chain lock, pg_advisory_xact_lock, which the commit-time link trigger takes
#: (migration `audit_link_at_commit` writes the number out).
CHAIN_LOCK_KEY = 7_311_020_261_121


#: Every column of an event but its links, which `append` computes in the database.
CONTENT_COLUMNS = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_role",
    "action",
    "resource_type",
    "resource_id",
    "patient_id",
    "outcome",
    "status_code",
    "client_address",
    "request_id",
)


#: Built once, run on every audited request (a Core INSERT: no ORM bookkeeping).
INSERT_EVENT = table_of(AuditEvent).insert()


def _canonical(event: AuditEvent, sequence: int | None) -> str:
    content = {
        "sequence": sequence,
        "id": str(event.id),
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "actor_role": event.actor_role,
        "action": event.action,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "patient_id": str(event.patient_id) if event.patient_id else None,
        "outcome": event.outcome.value,
        "status_code": event.status_code,
        "client_address": event.client_address,
        "request_id": event.request_id,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"))


def digest(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + _canonical(event, event.sequence)).encode()).hexdigest()


def _around_sequence(event: AuditEvent) -> tuple[str, str]:
    """The canonical text before and after the sequence number, which only the database
    knows at the moment of the insert. The key `"sequence"` is neither first nor last in key
    order, and a quote inside a string value is escaped, so the marker occurs once."""
    before, after = _canonical(event, 0).split(',"sequence":0,')
    return before + ',"sequence":', "," + after


def append(session: Session, event: AuditEvent) -> AuditEvent:
    """Add `event` to the end of the chain.

    On PostgreSQL the event is inserted unlinked, with its canonical text around the sequence
    number, and the database links it inside COMMIT (a deferred trigger, see the migration
    `audit_link_at_commit`): the chain lock is held only while the database commits, never
    while this process runs, so requests do not queue behind each other. SQLite serializes
    transactions anyway: there one INSERT reads the last link and hashes in SQL.
    """
    event.id = event.id or new_id()
    event.occurred_at = event.occurred_at or utcnow()
    before, after = _around_sequence(event)
    given = {column: getattr(event, column) for column in CONTENT_COLUMNS}
    if session.get_bind().dialect.name == "postgresql":
        event.link_pending = f"{before}\n{after}"
        session.execute(INSERT_EVENT, {**given, "link_pending": event.link_pending})
        return event
    last = (
        select(AuditEvent.sequence, AuditEvent.hash)
        .where(AuditEvent.sequence.is_not(None))
        .order_by(AuditEvent.sequence.desc())
        .limit(1)
        .subquery()
    )
    # An aggregate over the last link, or over nothing: one row either way.
    tip = select(
        func.coalesce(func.max(last.c.sequence), 0).label("sequence"),
        func.coalesce(func.max(last.c.hash), GENESIS).label("hash"),
    ).subquery()
    sequence = tip.c.sequence + 1
    values = {
        column: literal(value, INSERT_EVENT.table.c[column].type) for column, value in given.items()
    }
    chained = {
        "sequence": sequence,
        "prev_hash": tip.c.hash,
        # sha256_hex: registered on every SQLite connection by telehealth.db.
        "hash": func.sha256_hex(tip.c.hash + before + sql_cast(sequence, Text) + after),
    }
    row = session.execute(
        insert(AuditEvent)
        .from_select([*values, *chained], select(*values.values(), *chained.values()))
        .returning(AuditEvent.sequence, AuditEvent.prev_hash, AuditEvent.hash)
    ).one()
    event.sequence, event.prev_hash, event.hash = row.sequence, row.prev_hash, row.hash
    return event


@dataclass(frozen=True)
class BrokenLink:
    sequence: int
    event_id: str
    reason: str


@dataclass(frozen=True)
class Verification:
    checked: int
    broken: BrokenLink | None


def _chained(session: Session, batch: int) -> Generator[AuditEvent]:
    statement = (
        select(AuditEvent)
        .where(AuditEvent.sequence.is_not(None))
        .order_by(AuditEvent.sequence)
        .execution_options(yield_per=batch)
    )
    # Closed however the walk ends: on PostgreSQL yield_per reads through a server-side cursor,
    # which would otherwise stay open (and warn) when `verify` stops at a broken link.
    with session.scalars(statement) as events:
        yield from events


def verify(session: Session, *, batch: int = 1000) -> Verification:
    """Walk the chain in order; the first event whose link or content does not check out."""
    expected_prev, expected_sequence, checked = GENESIS, 1, 0
    with closing(_chained(session, batch)) as events:
        for event in events:
            reason = None
            if event.sequence != expected_sequence:
                reason = f"expected event number {expected_sequence}; an event is missing"
            elif event.prev_hash != expected_prev:
                reason = "its link to the previous event does not match"
            elif event.hash != digest(expected_prev, event):
                reason = "its content does not match its hash (changed after it was written)"
            if reason is not None:
                assert event.sequence is not None
                return Verification(checked, BrokenLink(event.sequence, str(event.id), reason))
            checked += 1
            expected_prev, expected_sequence = event.hash or "", expected_sequence + 1
    return Verification(checked, None)
