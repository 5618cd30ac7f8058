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

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from telehealth.audit.models import AuditEvent
from telehealth.db import new_id, utcnow

GENESIS = "0" * 64
#: An arbitrary, fixed key for pg_advisory_xact_lock: "the audit chain".
CHAIN_LOCK_KEY = 7_311_020_261_121


def digest(prev_hash: str, event: AuditEvent) -> str:
    content = {
        "sequence": event.sequence,
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
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def append(session: Session, event: AuditEvent) -> AuditEvent:
    """Link `event` to the end of the chain and add it to the session."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    last = session.execute(
        select(AuditEvent.sequence, AuditEvent.hash)
        .where(AuditEvent.sequence.is_not(None))
        .order_by(AuditEvent.sequence.desc())
        .limit(1)
    ).first()
    event.id = event.id or new_id()
    event.occurred_at = event.occurred_at or utcnow()
    event.sequence = (last.sequence + 1) if last else 1
    event.prev_hash = last.hash if last else GENESIS
    event.hash = digest(event.prev_hash, event)
    session.add(event)
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
