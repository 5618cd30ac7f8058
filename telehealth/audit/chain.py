"""The audit trail as a hash chain: each event's hash covers its content and the hash before
it, so changing, removing or reordering any event breaks every link after it.

Appending takes a transaction-scoped lock on PostgreSQL (SQLite's transactions are already
serialized), so the chain stays linear with any number of app instances.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, Text, cast, func, insert, literal, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from telehealth.audit.models import AuditEvent
from telehealth.db import new_id, utcnow

GENESIS = "0" * 64
#: An arbitrary, fixed key for pg_advisory_xact_lock: "the audit chain".
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


class sha256_hex(FunctionElement[str]):  # noqa: N801 - named as the SQL function it renders
    """The hex SHA-256 of a text, in SQL (SQLite gets the function from `telehealth.db`)."""

    type = String()
    inherit_cache = True


@compiles(sha256_hex, "postgresql")
def _sha256_hex_postgresql(element: sha256_hex, compiler: SQLCompiler, **kw: Any) -> str:
    return f"encode(sha256(convert_to({compiler.process(element.clauses, **kw)}, 'UTF8')), 'hex')"


@compiles(sha256_hex)
def _sha256_hex_default(element: sha256_hex, compiler: SQLCompiler, **kw: Any) -> str:
    return f"sha256_hex({compiler.process(element.clauses, **kw)})"


def append(session: Session, event: AuditEvent) -> AuditEvent:
    """Link `event` to the end of the chain: one INSERT that reads the last link and hashes
    in the database, so the chain lock is held for one statement and the commit.

    The lock comes first, in a statement of its own: under READ COMMITTED a statement sees
    the rows committed before it began, so it must begin after the previous holder committed.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    event.id = event.id or new_id()
    event.occurred_at = event.occurred_at or utcnow()
    before, after = _around_sequence(event)
    table = AuditEvent.__table__
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
    given = {
        column: literal(getattr(event, column), table.c[column].type) for column in CONTENT_COLUMNS
    }
    chained = {
        "sequence": sequence,
        "prev_hash": tip.c.hash,
        "hash": sha256_hex(tip.c.hash + before + cast(sequence, Text) + after),
    }
    row = session.execute(
        insert(AuditEvent)
        .from_select([*given, *chained], select(*given.values(), *chained.values()))
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
