"""Measurement-based care: baseline, latest, change, response, remission and deterioration per
instrument, from a few narrow queries on (patient, instrument, recorded_at) — never the
patient's whole history in Python."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from telehealth.checkins.models import InstrumentScore
from telehealth.db import utcnow
from telehealth.instruments.definitions import INSTRUMENTS, Instrument
from telehealth.sessions.models import SessionStatus, TreatmentSession

#: Totals must rise by this much over baseline to count as deterioration (PHQ-9 MCID ~5).
DETERIORATION_POINTS = 5
NOT_TREATMENT = (SessionStatus.CANCELLED, SessionStatus.NO_SHOW)
BEGUN = (SessionStatus.IN_PROGRESS, SessionStatus.COMPLETED)


def first_session_start(session: Session, patient_id: uuid.UUID) -> datetime | None:
    """The start of the patient's first treatment session that has begun (its start has
    come, or it was started early). A session only booked ahead has not started treatment:
    counting it would make every score so far "before the first session", so the baseline
    would follow the latest score and no change, response or deterioration could show."""
    return session.scalar(
        select(func.min(TreatmentSession.scheduled_start)).where(
            TreatmentSession.patient_id == patient_id,
            TreatmentSession.status.not_in(NOT_TREATMENT),
            or_(
                TreatmentSession.scheduled_start <= utcnow(),
                TreatmentSession.status.in_(BEGUN),
            ),
        )
    )


def _one(
    session: Session,
    patient_id: uuid.UUID,
    code: str,
    *,
    newest: bool,
    before: datetime | None = None,
) -> tuple[datetime, int] | None:
    statement = select(InstrumentScore.recorded_at, InstrumentScore.total).where(
        InstrumentScore.patient_id == patient_id, InstrumentScore.instrument == code
    )
    if before is not None:
        statement = statement.where(InstrumentScore.recorded_at < before)
    order = (InstrumentScore.recorded_at, InstrumentScore.id)
    statement = statement.order_by(*(c.desc() for c in order) if newest else order).limit(1)
    row = session.execute(statement).first()
    return (row.recorded_at, row.total) if row else None


def baseline(
    session: Session, patient_id: uuid.UUID, code: str, first_start: datetime | None
) -> tuple[datetime, int] | None:
    """The last score before the first session where one exists, else the first score."""
    if first_start is not None:
        before = _one(session, patient_id, code, newest=True, before=first_start)
        if before is not None:
            return before
    return _one(session, patient_id, code, newest=False)


def judge(instrument: Instrument, baseline_total: int, latest_total: int) -> dict[str, Any]:
    change = latest_total - baseline_total
    return {
        "change": change,
        "response": baseline_total > 0 and baseline_total - latest_total >= baseline_total / 2,
        "remission": (
            latest_total < instrument.remission_below
            if instrument.remission_below is not None
            else None
        ),
        "deterioration": change >= DETERIORATION_POINTS,
    }


def outcome(
    session: Session, patient_id: uuid.UUID, instrument: Instrument, first_start: datetime | None
) -> dict[str, Any]:
    start = baseline(session, patient_id, instrument.code, first_start)
    latest = _one(session, patient_id, instrument.code, newest=True)
    series = session.execute(
        select(InstrumentScore.recorded_at, InstrumentScore.total)
        .where(
            InstrumentScore.patient_id == patient_id,
            InstrumentScore.instrument == instrument.code,
        )
        .order_by(InstrumentScore.recorded_at, InstrumentScore.id)
    ).all()
    result: dict[str, Any] = {
        "baseline": None,
        "baseline_recorded_at": None,
        "latest": None,
        "latest_recorded_at": None,
        "change": None,
        "response": None,
        "remission": None,
        "deterioration": None,
        "series": [{"recorded_at": row.recorded_at, "total": row.total} for row in series],
    }
    if start is not None and latest is not None:
        result.update(
            baseline=start[1],
            baseline_recorded_at=start[0],
            latest=latest[1],
            latest_recorded_at=latest[0],
            **judge(instrument, start[1], latest[1]),
        )
    return result


def outcomes(session: Session, patient_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    first_start = first_session_start(session, patient_id)
    return {
        code: outcome(session, patient_id, instrument, first_start)
        for code, instrument in INSTRUMENTS.items()
    }
