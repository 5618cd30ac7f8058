from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, SmallInteger, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from telehealth.accounts.models import enum_column
from telehealth.db import Base, new_id, utcnow


class Outcome(enum.StrEnum):
    SUCCESS = "success"  # the request did what was asked
    DENIED = "denied"  # 401, 403 or 404: the caller may not do it, or it is not theirs
    FAILED = "failed"  # any other refusal or error


class AuditEvent(Base):
    """Who did what to which record, when, from where, and how it ended.

    Actor and patient ids are plain values, not foreign keys: an audit row must survive
    whatever happens to the rows it names, and must record attempts on ids that never existed.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_occurred", "occurred_at", "id"),
        Index("ix_audit_events_patient_occurred", "patient_id", "occurred_at", "id"),
        Index("ix_audit_events_actor_occurred", "actor_id", "occurred_at", "id"),
        Index("uq_audit_events_sequence", "sequence", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None]
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[uuid.UUID | None]
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome, "outcome"))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    client_address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    # Tamper evidence: events form a hash chain in `sequence` order (see telehealth.audit.chain).
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    #: On PostgreSQL, the event's canonical text before and after its sequence number, until
    #: the commit links the event into the chain (and empties this).
    link_pending: Mapped[str | None] = mapped_column(Text)


class AuditChainCutover(Base):
    """The last event linked before the chain was keyed (one row, written by the migration that
    keyed it): events up to it keep plain SHA-256 links, every later one an HMAC with the key.
    An anchor records it too, so moving it is caught by `verify --anchor`."""

    __tablename__ = "audit_chain_cutover"

    unkeyed_through: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class AuditTrailIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context: object, _instances: object) -> None:
    """The ORM half of append-only; the migration adds database triggers for the other half."""
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, AuditEvent):
            raise AuditTrailIsAppendOnly("audit events are never updated or deleted")
