"""The audit trail as a keyed hash chain: each event's hash is an HMAC-SHA256, under
`AUDIT_KEY`, of its content and the hash before it, so changing, removing or reordering any
event breaks every link after it, and nobody without the key can write a chain that verifies.

On PostgreSQL the database links each event as its transaction commits, under a lock, so the
chain stays linear with any number of app instances (SQLite's transactions are serialized).
The key never rests in the database: the INSERT of an event hands it over as a bound parameter,
`set_config('telehealth.audit_key', ..., true)`, which lives only until that transaction ends,
and the commit-time link reads it from there (migration `audit_keyed_chain`).

Events linked before the key existed (up to `audit_chain_cutover.unkeyed_through`) keep their
plain SHA-256 links; every later one is keyed. An anchor (`anchor`) is the signed head of the
chain, kept outside the database, against which `verify` proves nothing before it was removed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Insert, Text, bindparam, func, insert, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from telehealth.audit.models import AuditChainCutover, AuditEvent
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


#: The events table's INSERT, whose column types bind the values `append` hands over.
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


def current_key() -> str:
    """The chain's key, from the app's settings (`AUDIT_KEY`)."""
    key: str = current_app.config["AUDIT_KEY"]
    return key


def keyed_hash(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def digest(prev_hash: str, event: Any, key: str | None) -> str:
    """The hash of `event` after `prev_hash`: keyed (HMAC-SHA256) with `key`; plain SHA-256
    with None, as events were linked before the key existed."""
    message = prev_hash + _canonical(event, event.sequence)
    if key is None:
        return hashlib.sha256(message.encode()).hexdigest()
    return keyed_hash(key, message)


def _around_sequence(event: AuditEvent) -> tuple[str, str]:
    """The canonical text before and after the sequence number, which only the database
    knows at the moment of the insert. The key `"sequence"` is neither first nor last in key
    order, and a quote inside a string value is escaped, so the marker occurs once."""
    before, after = _canonical(event, 0).split(',"sequence":0,')
    return before + ',"sequence":', "," + after


#: The bound parameters of the INSERTs besides the columns: the key and, on SQLite, the
#: canonical text before and after the sequence number.
KEY, BEFORE, AFTER = "audit_key", "text_before_sequence", "text_after_sequence"


def _insert_unlinked() -> Insert:
    """PostgreSQL's INSERT of an event: its content and `link_pending`, every value a bound
    parameter, and the key handed to the commit-time link through `set_config`."""
    table = INSERT_EVENT.table
    names = [*CONTENT_COLUMNS, "link_pending"]
    values = [bindparam(name, type_=table.c[name].type) for name in names]
    hand_over_key = func.set_config("telehealth.audit_key", bindparam(KEY, type_=Text), True)
    return insert(table).from_select(names, select(*values).where(hand_over_key.is_not(None)))


def _insert_linked() -> Insert:
    """SQLite's INSERT of an event, linked in the same statement: the last link read and the
    keyed hash computed in SQL (`hmac_sha256_hex`, which `telehealth.engine` registers on
    every SQLite connection)."""
    table = INSERT_EVENT.table
    last = (
        select(table.c.sequence, table.c.hash)
        .where(table.c.sequence.is_not(None))
        .order_by(table.c.sequence.desc())
        .limit(1)
        .subquery()
    )
    # An aggregate over the last link, or over nothing: one row either way.
    tip = select(
        func.coalesce(func.max(last.c.sequence), 0).label("sequence"),
        func.coalesce(func.max(last.c.hash), GENESIS).label("hash"),
    ).subquery()
    sequence = tip.c.sequence + 1
    text_around = bindparam(BEFORE, type_=Text), bindparam(AFTER, type_=Text)
    chained = {
        "sequence": sequence,
        "prev_hash": tip.c.hash,
        "hash": func.hmac_sha256_hex(
            bindparam(KEY, type_=Text),
            tip.c.hash + text_around[0] + sql_cast(sequence, Text) + text_around[1],
        ),
    }
    values = [bindparam(name, type_=table.c[name].type) for name in CONTENT_COLUMNS]
    return (
        insert(table)
        .from_select([*CONTENT_COLUMNS, *chained], select(*values, *chained.values()))
        .returning(table.c.sequence, table.c.prev_hash, table.c.hash)
    )


#: Built once, every value bound: every request appends one event, and building the statement
#: cost more CPU than sending it.
INSERT_UNLINKED = _insert_unlinked()
INSERT_LINKED = _insert_linked()


def append(session: Session, event: AuditEvent, *, key: str | None = None) -> AuditEvent:
    """Add `event` to the end of the chain.

    On PostgreSQL the event is inserted unlinked, with its canonical text around the sequence
    number, and the database links it inside COMMIT (a deferred trigger, see the migration
    `audit_link_at_commit`): the chain lock is held only while the database commits, never
    while this process runs, so requests do not queue behind each other. SQLite serializes
    transactions anyway: there one INSERT reads the last link and hashes in SQL.

    Either way the key travels as a bound parameter of that one INSERT and is stored nowhere:
    on PostgreSQL in a setting local to the transaction, which the link at commit reads; on
    SQLite as an argument of the HMAC function the app registers on its connections.
    """
    event.id = event.id or new_id()
    event.occurred_at = event.occurred_at or utcnow()
    before, after = _around_sequence(event)
    params = {column: getattr(event, column) for column in CONTENT_COLUMNS}
    params[KEY] = key or current_key()
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        event.link_pending = params["link_pending"] = f"{before}\n{after}"
        connection.execute(INSERT_UNLINKED, params)
        return event
    row = connection.execute(INSERT_LINKED, {**params, BEFORE: before, AFTER: after}).one()
    event.sequence, event.prev_hash, event.hash = row.sequence, row.prev_hash, row.hash
    return event


@dataclass(frozen=True)
class BrokenLink:
    #: The bad event's place in the chain; None for an event outside it (never linked).
    sequence: int | None
    event_id: str
    reason: str


@dataclass(frozen=True)
class Verification:
    checked: int
    broken: BrokenLink | None


class AnchorInvalid(ValueError):
    """An anchor that is not one this key signed (forged, changed, or another key's)."""


def unkeyed_through(session: Session) -> int:
    """The last event linked before the chain was keyed (0: every event is keyed)."""
    return int(session.scalar(select(func.max(AuditChainCutover.unkeyed_through))) or 0)


def _anchor_mac(key: str, fields: dict[str, Any]) -> str:
    body = {name: value for name, value in fields.items() if name != "mac"}
    return keyed_hash(key, "anchor:" + json.dumps(body, sort_keys=True, separators=(",", ":")))


def anchor(session: Session, *, key: str, now: datetime | None = None) -> dict[str, Any]:
    """The signed head of the chain: its last event's number, id and hash, the time, and an
    HMAC of all of it with the key. Kept outside the database, it lets `verify` prove that
    nothing at or before that event was removed or rewritten since."""
    head = session.execute(
        select(AuditEvent.sequence, AuditEvent.id, AuditEvent.hash)
        .where(AuditEvent.sequence.is_not(None))
        .order_by(AuditEvent.sequence.desc())
        .limit(1)
    ).one_or_none()
    fields: dict[str, Any] = {
        "sequence": head.sequence if head else 0,
        "event_id": str(head.id) if head else None,
        "hash": head.hash if head else GENESIS,
        "at": (now or utcnow()).isoformat(),
        "unkeyed_through": unkeyed_through(session),
    }
    return {**fields, "mac": _anchor_mac(key, fields)}


def check_anchor(value: object, *, key: str) -> dict[str, Any]:
    """`value` (a parsed anchor) if this key signed it; AnchorInvalid otherwise."""
    names = {"sequence", "event_id", "hash", "at", "unkeyed_through", "mac"}
    if not isinstance(value, dict) or set(value) != names:
        raise AnchorInvalid("not an audit anchor")
    if not isinstance(value["mac"], str) or not hmac.compare_digest(
        value["mac"], _anchor_mac(key, value)
    ):
        raise AnchorInvalid("the anchor's signature does not match AUDIT_KEY")
    if not isinstance(value["sequence"], int) or not isinstance(value["unkeyed_through"], int):
        raise AnchorInvalid("not an audit anchor")
    return value


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


def _unlinked(session: Session) -> AuditEvent | None:
    """The oldest committed event outside the chain: written around the application (the
    database refuses them since the chain was keyed; older ones are still reported)."""
    return session.scalars(
        select(AuditEvent)
        .where(AuditEvent.sequence.is_(None))
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
        .limit(1)
    ).first()


def verify(
    session: Session,
    *,
    key: str | None = None,
    anchor: dict[str, Any] | None = None,
    batch: int = 1000,
) -> Verification:
    """Walk the chain in order; the first event whose link or content does not check out.

    Events up to the cut-over are checked against their plain SHA-256 links, every later one
    against its HMAC. With an `anchor` (checked with `check_anchor` first), the chain must still
    reach the anchored event with the anchored hash, and the cut-over must not have moved.
    An event outside the chain (no sequence) is reported too, after the chain itself."""
    key = key or current_key()
    keyed_after = unkeyed_through(session)
    expected_prev, expected_sequence, checked = GENESIS, 1, 0
    if anchor is not None and anchor["unkeyed_through"] != keyed_after:
        return Verification(
            0,
            BrokenLink(
                keyed_after,
                str(anchor["event_id"]),
                f"the chain was keyed after event #{anchor['unkeyed_through']} when anchored, "
                f"the database now says #{keyed_after}",
            ),
        )
    with closing(_chained(session, batch)) as events:
        for event in events:
            reason = None
            assert event.sequence is not None
            event_key = None if event.sequence <= keyed_after else key
            if event.sequence != expected_sequence:
                reason = f"expected event number {expected_sequence}; an event is missing"
            elif event.prev_hash != expected_prev:
                reason = "its link to the previous event does not match"
            elif event.hash != digest(expected_prev, event, event_key):
                reason = "its content does not match its hash (changed after it was written)"
            elif (
                anchor is not None
                and event.sequence == anchor["sequence"]
                and (str(event.id), event.hash) != (anchor["event_id"], anchor["hash"])
            ):
                reason = "it is not the event the anchor recorded at this place"
            if reason is not None:
                return Verification(checked, BrokenLink(event.sequence, str(event.id), reason))
            checked += 1
            expected_prev, expected_sequence = event.hash or "", expected_sequence + 1
    if anchor is not None and checked < anchor["sequence"]:
        return Verification(
            checked,
            BrokenLink(
                anchor["sequence"],
                str(anchor["event_id"]),
                f"the anchored head #{anchor['sequence']} is missing: the chain ends at "
                f"#{checked}, so events were removed",
            ),
        )
    stray = _unlinked(session)
    if stray is not None:
        return Verification(
            checked,
            BrokenLink(None, str(stray.id), "it is not linked into the chain (written around it)"),
        )
    return Verification(checked, None)
