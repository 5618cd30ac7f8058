"""A patient's plan (the default one, reading and replacing it) and what is due now."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from telehealth.accounts.models import User
from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.db import utcnow
from telehealth.errors import NotFound
from telehealth.etags import check_if_match_if_sent
from telehealth.patients.models import Patient
from telehealth.patients.service import get_managed_patient, require_visible_patient
from telehealth.schedules.defaults import local_today
from telehealth.schedules.models import MOOD, CheckinPlan, CheckinPlanItem
from telehealth.schedules.occurrences import Item, backwards, current


def get_plan(session: Session, actor: User, patient_id: uuid.UUID) -> CheckinPlan:
    """The plan of a patient the actor may see (the route lets in the care team and the
    patient; the contract names no admin)."""
    require_visible_patient(session, actor, patient_id)
    plan = session.get(CheckinPlan, patient_id)
    if plan is None:
        raise NotFound("No such patient.")
    return plan


def replace_plan(
    session: Session,
    actor: User,
    patient_id: uuid.UUID,
    *,
    reminders: bool,
    items: list[dict[str, Any]],
    if_match: str | None,
) -> CheckinPlan:
    """Replace the plan's items and reminder switch (the care team). `if_match`, the
    header's value, is checked when sent (None: not sent)."""
    patient = get_managed_patient(session, actor, patient_id)
    plan = session.get(CheckinPlan, patient_id, with_for_update=True)
    if plan is None:
        raise NotFound("No such patient.")
    check_if_match_if_sent(plan.version, if_match)
    today = local_today(patient.timezone)
    # The old items go first: the unit of work inserts before it deletes, and a new item for an
    # instrument the plan already has would hit the (patient, instrument) unique key.
    plan.items = []
    session.flush()
    plan.reminders = reminders
    plan.items = [
        CheckinPlanItem(
            patient_id=patient_id,
            position=i,
            instrument=item["instrument"],
            every=item["every"],
            at=item["at"],
            weekday=item.get("weekday"),
            day=item.get("day"),
            starts_on=item.get("starts_on") or today,
        )
        for i, item in enumerate(items)
    ]
    plan.updated_at = utcnow()
    session.flush()
    return plan


def as_item(row: Any) -> Item:
    return Item(row.instrument, row.every, row.at, row.starts_on, row.weekday, row.day)


def last_done(session: Session, patient_id: uuid.UUID) -> dict[str, datetime]:
    """When the patient last sent each item: any check-in for the mood, the instrument's
    answers for a questionnaire."""
    done: dict[str, datetime] = {}
    mood = session.scalar(
        select(func.max(MoodCheckIn.recorded_at)).where(MoodCheckIn.patient_id == patient_id)
    )
    if mood is not None:
        done[MOOD] = mood
    for code, at in session.execute(
        select(InstrumentScore.instrument, func.max(InstrumentScore.recorded_at))
        .where(InstrumentScore.patient_id == patient_id)
        .group_by(InstrumentScore.instrument)
    ):
        done[code] = at
    return done


def due_now(session: Session, patient: User) -> list[dict[str, Any]]:
    """What the patient is asked for now: each item whose occurrence is due and not yet done,
    and each whose last occurrence went by without it (missed), in plan order."""
    plan = session.get(CheckinPlan, patient.id)
    timezone = session.scalar(select(Patient.timezone).where(Patient.id == patient.id))
    if plan is None or timezone is None:
        return []
    zone, now = ZoneInfo(timezone), utcnow()
    done = last_done(session, patient.id)
    listed = []
    for row in plan.items:
        item = as_item(row)
        last = done.get(item.instrument)
        due = current(item, zone, now)
        if due is not None and (last is None or last < due.starts_at):
            listed.append(_entry(due.instrument, due.due_at, zone, "due"))
            continue
        if due is None:
            latest = next(backwards(item, zone, now), None)
            if latest is not None and (last is None or last < latest.starts_at):
                listed.append(_entry(item.instrument, latest.due_at, zone, "missed"))
    return listed


def _entry(instrument: str, due_at: datetime, zone: ZoneInfo, status: str) -> dict[str, Any]:
    return {
        "instrument": instrument,
        "due_at": due_at,
        "due_at_local": due_at.astimezone(zone),
        "status": status,
    }
