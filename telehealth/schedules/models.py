"""A patient's check-in plan and the reminders sent for it."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telehealth.accounts.models import enum_column
from telehealth.db import Base, new_id, utcnow

#: The daily mood check-in's item name; questionnaires go by their instrument code.
MOOD = "mood"


class Every(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class CheckinPlan(Base):
    """A patient's plan; its version is the ETag of `GET /patients/{id}/schedule`."""

    __tablename__ = "checkin_plans"

    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    reminders: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list[CheckinPlanItem]] = relationship(
        back_populates="plan",
        cascade="all, delete-orphan",
        order_by="CheckinPlanItem.position",
        lazy="selectin",
    )

    __mapper_args__ = {"version_id_col": version}


class CheckinPlanItem(Base):
    """One thing the patient is asked for: the daily mood, or a questionnaire, at a wall-clock
    time in the patient's zone, every day, week (on a weekday) or month (on a day)."""

    __tablename__ = "checkin_plan_items"
    __table_args__ = (
        UniqueConstraint("patient_id", "instrument"),
        CheckConstraint("weekday IS NULL OR weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("day IS NULL OR day BETWEEN 1 AND 28", name="day_range"),
        CheckConstraint(
            "(every = 'week') = (weekday IS NOT NULL) AND (every = 'month') = (day IS NOT NULL)",
            name="day_fits_every",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("checkin_plans.patient_id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(SmallInteger)
    instrument: Mapped[str] = mapped_column(String(16))
    every: Mapped[Every] = mapped_column(enum_column(Every, "every"))
    at: Mapped[time] = mapped_column(Time)
    weekday: Mapped[int | None] = mapped_column(SmallInteger)
    day: Mapped[int | None] = mapped_column(SmallInteger)
    starts_on: Mapped[date]

    plan: Mapped[CheckinPlan] = relationship(back_populates="items")


class CheckinReminder(Base):
    """A reminder sent for one occurrence of one item (its local date), first or second: each
    once, however many workers tick."""

    __tablename__ = "checkin_reminders"

    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    instrument: Mapped[str] = mapped_column(String(16), primary_key=True)
    occurrence: Mapped[date] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
