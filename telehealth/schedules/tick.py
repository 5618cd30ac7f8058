"""The worker's pass over every plan: reminders of what is due, and an alert for a silent
patient. One pass reads every plan item with its patient's zone and when each item was last
sent, in one statement, whatever the number of patients."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from telehealth.accounts.models import User
from telehealth.alerts.models import AlertKind, AlertSource, SafetyAlert
from telehealth.alerts.service import Trigger, raise_alerts
from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.db import utcnow
from telehealth.outbound.events import Event
from telehealth.outbound.models import EventType
from telehealth.patients.models import Patient
from telehealth.schedules.models import MOOD, CheckinPlan, CheckinPlanItem, CheckinReminder, Every
from telehealth.schedules.occurrences import (
    QuietHours,
    current,
    missed_in_a_row,
    reminder_times,
)
from telehealth.schedules.service import as_item

#: Misses in a row that make a streak worth an alert (clinical reference).
STREAK = {Every.DAY: 3, Every.WEEK: 2, Every.MONTH: 2}

_LAST_MOOD = (
    select(func.max(MoodCheckIn.recorded_at))
    .where(MoodCheckIn.patient_id == CheckinPlanItem.patient_id)
    .scalar_subquery()
)
_LAST_ANSWERS = (
    select(func.max(InstrumentScore.recorded_at))
    .where(
        InstrumentScore.patient_id == CheckinPlanItem.patient_id,
        InstrumentScore.instrument == CheckinPlanItem.instrument,
    )
    .scalar_subquery()
)
_REMINDED = aliased(CheckinReminder)
_LAST_REMINDED_ON = (
    select(func.max(_REMINDED.occurrence))
    .where(
        _REMINDED.patient_id == CheckinPlanItem.patient_id,
        _REMINDED.instrument == CheckinPlanItem.instrument,
    )
    .scalar_subquery()
)
_LAST_REMINDER = (
    select(func.max(CheckinReminder.number))
    .where(
        CheckinReminder.patient_id == CheckinPlanItem.patient_id,
        CheckinReminder.instrument == CheckinPlanItem.instrument,
        CheckinReminder.occurrence == _LAST_REMINDED_ON,
    )
    .scalar_subquery()
)
#: Every item of every active patient's plan, with the zone, the reminder switch, when the
#: item was last sent (each an index lookup: the latest check-in, or the latest answers), and
#: the latest reminder claimed for it (its occurrence and number: primary-key lookups), so that
#: a pass claims only what is new.
PLAN_ITEMS = (
    select(
        CheckinPlanItem,
        CheckinPlan.reminders,
        Patient.timezone,
        case((CheckinPlanItem.instrument == MOOD, _LAST_MOOD), else_=_LAST_ANSWERS).label("last"),
        _LAST_REMINDED_ON.label("reminded_on"),
        _LAST_REMINDER.label("reminded"),
    )
    .join(CheckinPlan, CheckinPlan.patient_id == CheckinPlanItem.patient_id)
    .join(Patient, Patient.id == CheckinPlanItem.patient_id)
    .join(User, User.id == Patient.id)
    .where(User.is_active.is_(True))
)
INSERT_REMINDERS = {
    "postgresql": postgresql.insert(CheckinReminder).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(CheckinReminder).on_conflict_do_nothing(),
}


def quiet_hours(config: Mapping[str, Any]) -> QuietHours:
    starts, ends = config["CHECKIN_QUIET_HOURS"]
    return QuietHours(time.fromisoformat(starts), time.fromisoformat(ends))


def run_schedules(session: Session, config: Mapping[str, Any]) -> tuple[int, int]:
    """Send the reminders that are due and raise the missed-check-in alerts that are called
    for; how many of each."""
    now = utcnow()
    quiet = quiet_hours(config)
    second_after = timedelta(hours=config["CHECKIN_SECOND_REMINDER_HOURS"])
    reminders: list[dict[str, Any]] = []
    streaks: list[Trigger] = []
    for row in session.execute(PLAN_ITEMS):
        planned, zone = row.CheckinPlanItem, ZoneInfo(row.timezone)
        item, last = as_item(planned), row.last
        due = current(item, zone, now)
        if row.reminders and due is not None and (last is None or last < due.starts_at):
            times = reminder_times(due, zone, quiet, second_after)
            number = _reminder_now(times, now, due.local_date, zone, quiet)
            claimed = row.reminded if row.reminded_on == due.local_date else 0
            if number is not None and number > claimed:
                reminders.append(
                    {
                        "patient_id": planned.patient_id,
                        "instrument": item.instrument,
                        "occurrence": due.local_date,
                        "number": number,
                        "sent_at": now,
                        "due_at": due.due_at,
                    }
                )
        enough = STREAK[item.every]
        if missed_in_a_row(item, zone, now, last, enough) >= enough:
            streaks.append(_streak(planned.patient_id, item.instrument, item.every, enough, last))
    sent = _claim_reminders(session, reminders)
    raised = raise_alerts(
        session,
        streaks,
        along_with=lambda made: [*map(_due_event, sent), *map(_missed_event, made)],
    )
    return len(sent), len(raised)


def _reminder_now(
    times: list[datetime], now: datetime, local_date: date, zone: ZoneInfo, quiet: QuietHours
) -> int | None:
    """Which reminder (1 or 2) is due now: the latest whose time has come, so a worker that
    was down sends one late reminder, not two; and a late one only on the occurrence's own
    local day and outside quiet hours (a weekly item's window lasts days: its missed
    reminders are not sent at night, nor days later)."""
    local = now.astimezone(zone)
    if local.date() != local_date or not quiet.allows(local.time()):
        return None
    number = None
    for index, moment in enumerate(times, start=1):
        if moment <= now:
            number = index
    return number


def _streak(
    patient_id: uuid.UUID, instrument: str, every: Every, misses: int, last: datetime | None
) -> Trigger:
    """The streak's alert. Its key is the item and when it was last sent: the same for the
    whole streak (one alert), new after the patient sends it again (a new streak may alert)."""
    since = last.isoformat(timespec="seconds") if last is not None else "never"
    what = "daily check-ins" if instrument == MOOD else f"{instrument} questionnaires"
    return Trigger(
        patient_id=patient_id,
        kind=AlertKind.MISSED_CHECKINS,
        source_type=AlertSource.PATIENT,
        source_id=patient_id,
        occurrence=f"{instrument}:{since}",
        reason=f"Review a silent patient: {misses} scheduled {what} missed in a row "
        f"({every.value}ly plan).",
    )


def _claim_reminders(session: Session, due: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Claim each reminder, once however many workers try: the reminders this pass claimed
    (the patient is told of each, `_due_event`)."""
    if not due:
        return []
    dialect = session.get_bind().dialect.name
    rows = [{k: v for k, v in r.items() if k != "due_at"} for r in due]
    claimed = {
        (r.patient_id, r.instrument, r.occurrence, r.number)
        for r in session.execute(
            INSERT_REMINDERS[dialect].returning(
                CheckinReminder.patient_id,
                CheckinReminder.instrument,
                CheckinReminder.occurrence,
                CheckinReminder.number,
            ),
            rows,
        )
    }
    return [
        reminder
        for reminder in due
        if (
            reminder["patient_id"],
            reminder["instrument"],
            reminder["occurrence"],
            reminder["number"],
        )
        in claimed
    ]


def _due_event(reminder: dict[str, Any]) -> Event:
    """`checkin.due`: tell the patient a check-in is due."""
    return Event(
        EventType.CHECKIN_DUE,
        {
            "patient_id": reminder["patient_id"],
            "instrument": reminder["instrument"],
            "due_at": reminder["due_at"],
            "reminder": reminder["number"],
        },
        [reminder["patient_id"]],
    )


def _missed_event(alert: SafetyAlert) -> Event:
    """`checkin.missed`: the clinic's systems hear of a missed-check-in alert."""
    return Event(
        EventType.CHECKIN_MISSED,
        {
            "patient_id": alert.patient_id,
            "alert_id": alert.id,
            "instrument": alert.occurrence.partition(":")[0],
        },
    )
