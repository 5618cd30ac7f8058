from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telehealth.accounts.models import enum_column
from telehealth.db import Base, new_id, utcnow


class Checkpoint(enum.StrEnum):
    PRE_SESSION = "pre_session"
    PLUS_40_MIN = "plus_40_min"
    END_OF_SESSION = "end_of_session"


class Dissociation(enum.StrEnum):
    NONE = "none"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class Severity(enum.StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


SIDE_EFFECTS = (
    "nausea",
    "vomiting",
    "dizziness",
    "headache",
    "blurred_vision",
    "anxiety",
    "confusion",
    "dissociation",
    "sedation",
    "elevated_blood_pressure",
    "bladder_discomfort",
    "other",
)

# The accepted ranges of the clinical reference, kept by the database too.
VITAL_RANGES = {
    "systolic": (50, 300),
    "diastolic": (20, 200),
    "heart_rate": (20, 300),
    "spo2": (50, 100),
    "respiratory_rate": (4, 80),
    "temperature": (30, 45),
    "sedation": (0, 5),
}


def _range_checks() -> tuple[CheckConstraint, ...]:
    return tuple(
        CheckConstraint(f"{name} IS NULL OR {name} BETWEEN {low} AND {high}", name=f"{name}_range")
        for name, (low, high) in VITAL_RANGES.items()
    )


class MonitoringNote(Base):
    """An observation during a session. Never edited or deleted: corrections are amendments."""

    __tablename__ = "monitoring_notes"
    __table_args__ = (
        *_range_checks(),
        CheckConstraint(
            "systolic IS NULL OR diastolic IS NULL OR systolic > diastolic",
            name="systolic_above_diastolic",
        ),
        Index("ix_monitoring_notes_session_observed", "session_id", "observed_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("treatment_sessions.id", ondelete="CASCADE")
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    checkpoint: Mapped[Checkpoint | None] = mapped_column(enum_column(Checkpoint, "checkpoint"))
    observed_at: Mapped[datetime]
    systolic: Mapped[int | None] = mapped_column(SmallInteger)
    diastolic: Mapped[int | None] = mapped_column(SmallInteger)
    heart_rate: Mapped[int | None] = mapped_column(SmallInteger)
    spo2: Mapped[int | None] = mapped_column(SmallInteger)
    respiratory_rate: Mapped[int | None] = mapped_column(SmallInteger)
    temperature: Mapped[float | None] = mapped_column(Numeric(4, 1, asdecimal=False))
    sedation: Mapped[int | None] = mapped_column(SmallInteger)
    dissociation: Mapped[Dissociation | None] = mapped_column(
        enum_column(Dissociation, "dissociation")
    )
    side_effects: Mapped[list[str]] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_at: Mapped[datetime | None]

    adverse_event: Mapped[AdverseEvent | None] = relationship(
        back_populates="note", lazy="selectin", cascade="all, delete-orphan"
    )
    amendments: Mapped[list[NoteAmendment]] = relationship(
        back_populates="note",
        lazy="selectin",
        order_by="NoteAmendment.created_at",
        cascade="all, delete-orphan",
    )

    @property
    def vitals(self) -> dict[str, float | int | None]:
        return {
            name: getattr(self, name)
            for name in (
                "systolic",
                "diastolic",
                "heart_rate",
                "spo2",
                "respiratory_rate",
                "temperature",
            )
        }


class AdverseEvent(Base):
    __tablename__ = "adverse_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    note_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("monitoring_notes.id", ondelete="CASCADE"), unique=True
    )
    description: Mapped[str] = mapped_column(String(2000))
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, "severity"))
    serious: Mapped[bool]
    emergency_care: Mapped[bool]
    action_taken: Mapped[str | None] = mapped_column(String(2000))

    note: Mapped[MonitoringNote] = relationship(back_populates="adverse_event")


class NoteAmendment(Base):
    """A correction or addition to a note; the note itself stays as it was written."""

    __tablename__ = "note_amendments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    note_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("monitoring_notes.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    note: Mapped[MonitoringNote] = relationship(back_populates="amendments")
