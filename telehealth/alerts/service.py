"""Raising alerts. Every trigger in the service goes through `raise_alert`."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from telehealth.alerts.models import AlertKind, SafetyAlert
from telehealth.db import new_id, utcnow


def raise_alert(
    session: Session,
    *,
    patient_id: uuid.UUID,
    kind: AlertKind,
    source_type: str,
    source_id: uuid.UUID,
    reason: str,
) -> SafetyAlert:
    """The alert for this trigger: created once, however often the trigger fires.

    An INSERT ... ON CONFLICT DO NOTHING on the (source, kind) key, so concurrent retries of
    one submission cannot create two alerts, then a read of whichever row won.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = utcnow()
    session.execute(
        dialect.insert(SafetyAlert)
        .values(
            id=new_id(),
            patient_id=patient_id,
            kind=kind,
            priority=kind.priority,
            source_type=source_type,
            source_id=source_id,
            reason=reason[:500],
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["source_type", "source_id", "kind"])
    )
    return session.scalars(
        select(SafetyAlert).where(
            SafetyAlert.source_type == source_type,
            SafetyAlert.source_id == source_id,
            SafetyAlert.kind == kind,
        )
    ).one()
