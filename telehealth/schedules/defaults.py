"""A new patient's check-in plan (kept apart from the plan service, which builds on patients)."""

from __future__ import annotations

from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from telehealth.db import utcnow
from telehealth.patients.models import Patient
from telehealth.schedules.models import MOOD, CheckinPlan, CheckinPlanItem, Every

#: A new patient's plan: daily mood at 09:00, PHQ-9 and GAD-7 on Mondays, PCL-5 on the 1st.
DEFAULT_ITEMS: tuple[dict[str, Any], ...] = (
    {"instrument": MOOD, "every": Every.DAY, "at": time(9)},
    {"instrument": "PHQ-9", "every": Every.WEEK, "at": time(9), "weekday": 0},
    {"instrument": "GAD-7", "every": Every.WEEK, "at": time(9), "weekday": 0},
    {"instrument": "PCL-5", "every": Every.MONTH, "at": time(9), "day": 1},
)


def local_today(timezone: str) -> date:
    return utcnow().astimezone(ZoneInfo(timezone)).date()


def add_default_plan(session: Session, patient: Patient) -> CheckinPlan:
    """The default plan, starting today in the patient's zone (a new patient)."""
    starts_on = local_today(patient.timezone)
    plan = CheckinPlan(
        patient_id=patient.id,
        reminders=True,
        items=[
            CheckinPlanItem(patient_id=patient.id, position=i, starts_on=starts_on, **fields)
            for i, fields in enumerate(DEFAULT_ITEMS)
        ],
    )
    session.add(plan)
    return plan
