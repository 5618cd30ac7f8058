from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.accounts.models import enum_column
from telehealth.db import Base, new_id, utcnow


class AlertKind(enum.StrEnum):
    """In priority order, as the clinical reference lists them: the first is the most urgent."""

    SUICIDAL_IDEATION = "suicidal_ideation"
    SEVERE_SCORE = "severe_score"
    DETERIORATION = "deterioration"
    VITAL_SIGN = "vital_sign"
    ADVERSE_EVENT = "adverse_event"
    CHECKPOINT_OVERDUE = "checkpoint_overdue"

    @property
    def priority(self) -> int:
        return list(AlertKind).index(self) + 1


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


class SafetyAlert(Base):
    """One alert per trigger: the unique key on (source, kind) makes retries raise nothing new."""

    __tablename__ = "safety_alerts"
    __table_args__ = (
        UniqueConstraint("source_type", "source_id", "kind"),
        Index("ix_safety_alerts_patient_status", "patient_id", "status", "priority", "created_at"),
        Index("ix_safety_alerts_status_priority", "status", "priority", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    kind: Mapped[AlertKind] = mapped_column(enum_column(AlertKind, "alert_kind"))
    priority: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[AlertStatus] = mapped_column(
        enum_column(AlertStatus, "alert_status"), default=AlertStatus.OPEN
    )
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    acknowledged_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(2000))
