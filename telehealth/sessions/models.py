from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, fields
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


@dataclass(slots=True)
class TransitionView:
    """A lifecycle move as the API shows it."""

    from_status: SessionStatus
    to_status: SessionStatus
    actor_id: uuid.UUID
    occurred_at: datetime
    reason: str | None

    @classmethod
    def of(cls, moved: SessionTransition) -> TransitionView:
        return cls(
            moved.from_status, moved.to_status, moved.actor_id, moved.occurred_at, moved.reason
        )


@dataclass(slots=True)
class SessionView:
    """A session as the API shows it, however it was read: from the ORM object (`of`: one
    session, and the answer to every change) or from a row of a list's columns (a page). What
    the answer derives from the stored columns is computed here, and only here."""

    id: uuid.UUID
    patient_id: uuid.UUID
    clinician_id: uuid.UUID
    status: SessionStatus
    scheduled_start: datetime
    scheduled_end: datetime
    duration_minutes: int
    modality: Modality
    treatment_monitor_name: str
    treatment_monitor_phone: str
    notes: str | None
    medication_taken_at: datetime | None
    completion_reason: str | None
    created_at: datetime
    updated_at: datetime
    #: The patient's IANA time zone, in which the session is shown to them.
    timezone: str
    #: The status history, oldest first; None where it was not read (a list, unless asked).
    transitions: list[TransitionView] | None = None

    @classmethod
    def of(cls, treatment: TreatmentSession) -> SessionView:
        """The session with its history (loaded with it, or lazily here)."""
        return cls(
            **{name: getattr(treatment, name) for name in SHOWN_COLUMNS},
            timezone=treatment.patient.timezone,
            transitions=[TransitionView.of(moved) for moved in treatment.transitions],
        )

    @property
    def scheduled_start_local(self) -> datetime:
        """The start in the patient's own time zone, as the patient's phone should show it."""
        return self.scheduled_start.astimezone(ZoneInfo(self.timezone))

    @property
    def treatment_monitor(self) -> dict[str, str]:
        return {"name": self.treatment_monitor_name, "phone": self.treatment_monitor_phone}


#: The session's own columns that `SessionView` shows: a list reads exactly these, by name.
SHOWN_COLUMNS = tuple(
    field.name for field in fields(SessionView) if field.name not in ("timezone", "transitions")
)


class SessionReminder(Base):
    """A reminder sent (once) for a session, `hours_before` its start."""

    __tablename__ = "session_reminders"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("treatment_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    hours_before: Mapped[int] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
