from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telehealth.accounts.models import User, enum_column
from telehealth.db import Base, TimestampMixin, new_id, utcnow
from telehealth.patients.models import Patient


class Modality(enum.StrEnum):
    VIDEO = "video"
    PHONE = "phone"


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class TreatmentSession(TimestampMixin, Base):
    """A clinician-scheduled telehealth treatment session. It records that and when the patient
    took their prescribed medication, never how much."""

    __tablename__ = "treatment_sessions"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 15 AND 480", name="duration_range"),
        CheckConstraint("scheduled_end > scheduled_start", name="end_after_start"),
        # Lists and the overlap check seek by person and start time.
        Index("ix_treatment_sessions_patient_start", "patient_id", "scheduled_start", "id"),
        Index("ix_treatment_sessions_clinician_start", "clinician_id", "scheduled_start", "id"),
        Index("ix_treatment_sessions_updated", "updated_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    clinician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    scheduled_start: Mapped[datetime]
    scheduled_end: Mapped[datetime]
    duration_minutes: Mapped[int]
    modality: Mapped[Modality] = mapped_column(enum_column(Modality, "modality"))
    treatment_monitor_name: Mapped[str] = mapped_column(String(200))
    treatment_monitor_phone: Mapped[str] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[SessionStatus] = mapped_column(
        enum_column(SessionStatus, "session_status"), default=SessionStatus.SCHEDULED
    )
    medication_taken_at: Mapped[datetime | None]
    medication_recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # Why a session was completed without everything the rules ask for (the end-of-session
    # checkpoint, signed notes): kept on the record, and in both exports.
    completion_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped[Patient] = relationship(lazy="joined", innerjoin=True)
    clinician: Mapped[User] = relationship(foreign_keys=[clinician_id])
    transitions: Mapped[list[SessionTransition]] = relationship(
        back_populates="session",
        order_by="SessionTransition.occurred_at",
        cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": version}

    def reschedule(self, start: datetime, duration_minutes: int) -> None:
        self.scheduled_start = start
        self.duration_minutes = duration_minutes
        self.scheduled_end = start + timedelta(minutes=duration_minutes)

    def opens_at(self, early: timedelta) -> datetime:
        """When the session's day opens: it may be started, and the medication and notes
        observed, from `early` before its scheduled start."""
        return self.scheduled_start - early

    @property
    def timezone(self) -> str:
        """The patient's IANA time zone, in which the session is shown to them."""
        return self.patient.timezone

    @property
    def scheduled_start_local(self) -> datetime:
        return local_start(self.scheduled_start, self.timezone)

    @property
    def treatment_monitor(self) -> dict[str, str]:
        return monitor(self.treatment_monitor_name, self.treatment_monitor_phone)


def local_start(scheduled_start: datetime, timezone: str) -> datetime:
    """The start in the patient's own time zone, as the patient's phone should show it."""
    return scheduled_start.astimezone(ZoneInfo(timezone))


def monitor(name: str, phone: str) -> dict[str, str]:
    """The treatment monitor as the API shows one."""
    return {"name": name, "phone": phone}


class SessionTransition(Base):
    """One lifecycle move: who moved the session from which status to which, and when."""

    __tablename__ = "session_transitions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("treatment_sessions.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus, "from_status"))
    to_status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus, "to_status"))
    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(String(500))

    session: Mapped[TreatmentSession] = relationship(back_populates="transitions")


class SessionReminder(Base):
    """A reminder sent (once) for a session, `hours_before` its start."""

    __tablename__ = "session_reminders"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("treatment_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    hours_before: Mapped[int] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
