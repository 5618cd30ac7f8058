from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telehealth.accounts.models import enum_column
from telehealth.db import Base, new_id, utcnow


class CheckInContext(enum.StrEnum):
    DAILY = "daily"
    PRE_SESSION = "pre_session"
    POST_SESSION = "post_session"


class MoodCheckIn(Base):
    """What a patient reported from their phone: `recorded_at` is the phone's time (kept for
    late, offline submissions), `received_at` the server's."""

    __tablename__ = "mood_checkins"
    __table_args__ = (
        CheckConstraint("mood BETWEEN 0 AND 10", name="mood_range"),
        CheckConstraint("anxiety IS NULL OR anxiety BETWEEN 0 AND 10", name="anxiety_range"),
        CheckConstraint(
            "sleep_hours IS NULL OR sleep_hours BETWEEN 0 AND 24", name="sleep_hours_range"
        ),
        Index("ix_mood_checkins_patient_recorded", "patient_id", "recorded_at", "id"),
        Index("ix_mood_checkins_patient_updated", "patient_id", "updated_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("treatment_sessions.id", ondelete="SET NULL"), index=True
    )
    recorded_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    mood: Mapped[int] = mapped_column(SmallInteger)
    anxiety: Mapped[int | None] = mapped_column(SmallInteger)
    sleep_hours: Mapped[float | None] = mapped_column(Numeric(3, 1, asdecimal=False))
    note: Mapped[str | None] = mapped_column(Text)
    context: Mapped[CheckInContext] = mapped_column(
        enum_column(CheckInContext, "checkin_context"), default=CheckInContext.DAILY
    )

    scores: Mapped[list[InstrumentScore]] = relationship(
        back_populates="checkin", lazy="selectin", order_by="InstrumentScore.instrument"
    )


class InstrumentScore(Base):
    """One questionnaire of a check-in: the answers and what the server scored from them.
    `patient_id` and `recorded_at` are repeated here so outcomes read one narrow index."""

    __tablename__ = "instrument_scores"
    __table_args__ = (
        # `total` last: outcomes read a patient's whole series from the index alone.
        Index(
            "ix_instrument_scores_patient_instrument_recorded",
            "patient_id",
            "instrument",
            "recorded_at",
            "id",
            "total",
        ),
        # One score per instrument per check-in.
        Index("uq_instrument_scores_checkin_instrument", "checkin_id", "instrument", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    checkin_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mood_checkins.id", ondelete="CASCADE")
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    instrument: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime]
    answers: Mapped[list[int]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(SmallInteger)
    band: Mapped[str | None] = mapped_column(String(32))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    checkin: Mapped[MoodCheckIn] = relationship(back_populates="scores")
