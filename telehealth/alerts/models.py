"""Safety alerts: things the care team must review. They say "review this", never what to do
with medication."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.accounts.models import enum_column
from telehealth.db import Base, new_id, utcnow
from telehealth.monitoring.models import Checkpoint


class AlertKind(enum.StrEnum):
    """In priority order, as the clinical reference lists them: what is happening now, around
    medication taken at home, before trends. The first is the most urgent; this order is the
    only place that decides an alert's `priority`."""

    SUICIDAL_IDEATION = "suicidal_ideation"
    ADVERSE_EVENT = "adverse_event"
    CHECKPOINT_OVERDUE = "checkpoint_overdue"
    VITAL_SIGN = "vital_sign"
    SEVERE_SCORE = "severe_score"
    DETERIORATION = "deterioration"
    MISSED_CHECKINS = "missed_checkins"

    @property
    def priority(self) -> int:
        """1 for the most urgent kind, then 2, 3... in declaration order."""
        return PRIORITY[self]


PRIORITY: dict[AlertKind, int] = {kind: rank for rank, kind in enumerate(AlertKind, start=1)}


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


class AlertSource(enum.StrEnum):
    """The record an alert came from, each readable by the care team at its own path:
    a check-in at `/checkins/{id}`, a monitoring note at `/notes/{id}`, a session (for an
    overdue checkpoint) at `/sessions/{id}`."""

    CHECKIN = "checkin"
    MONITORING_NOTE = "monitoring_note"
    SESSION = "session"
    #: A silent patient (missed check-ins): the patient's record, `/patients/{id}`.
    PATIENT = "patient"


#: Highest escalation level: 1 the whole care team again, 2 the clinic's admins.
MAX_ESCALATION_LEVEL = 2


class SafetyAlert(Base):
    """One alert per trigger: the unique key on (source, kind, occurrence) makes retries raise
    nothing new."""

    __tablename__ = "safety_alerts"
    __table_args__ = (
        UniqueConstraint("source_type", "source_id", "kind", "occurrence"),
        CheckConstraint(
            f"escalation_level BETWEEN 0 AND {MAX_ESCALATION_LEVEL}",
            name="escalation_level_range",
        ),
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
    #: The record that raised it (an `AlertSource`), by type and id.
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[uuid.UUID]
    #: Which occurrence of the trigger on that source: the checkpoint's name for an overdue
    #: checkpoint (one session, several checkpoints); empty otherwise. Part of the unique key,
    #: and never NULL, since NULLs never collide in a unique key.
    occurrence: Mapped[str] = mapped_column(String(64), default="")
    #: The session the trigger came from, where it came from one.
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("treatment_sessions.id", ondelete="SET NULL")
    )
    #: The overdue checkpoint, for `checkpoint_overdue`.
    checkpoint: Mapped[Checkpoint | None] = mapped_column(enum_column(Checkpoint, "checkpoint"))
    reason: Mapped[str] = mapped_column(String(500))
    #: 0 until nobody acknowledges it in time; then 1 (the care team again), 2 (the admins).
    escalation_level: Mapped[int] = mapped_column(SmallInteger, default=0)
    escalated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    acknowledged_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(2000))
