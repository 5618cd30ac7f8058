"""A check-in as every answer reads it: the single read, the list, the submit answer and the
JSON export. One read model, built from a stored check-in or from the plain rows of a page;
each score's result is worked out once, where the model is built."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telehealth.alerts.models import SafetyAlert
from telehealth.checkins.models import CheckInContext, InstrumentScore, MoodCheckIn

#: A check-in's scores as an answer writes them: each instrument's result by its code.
Scores = dict[str, dict[str, Any]]

#: The columns of a check-in, each read as it is stored.
COLUMNS = tuple(column.key for column in MoodCheckIn.__mapper__.column_attrs)


@dataclass(slots=True)
class CheckIn:
    """A check-in and its scores, as `CheckInOut` writes them."""

    id: uuid.UUID
    patient_id: uuid.UUID
    session_id: uuid.UUID | None
    recorded_at: datetime
    received_at: datetime
    updated_at: datetime
    mood: int
    anxiety: int | None
    sleep_hours: float | None
    note: str | None
    context: CheckInContext
    scores: Scores


@dataclass(slots=True)
class SubmittedCheckIn(CheckIn):
    """A new check-in, with the alerts it raised and the crisis text where one calls for it."""

    alerts: list[SafetyAlert]
    crisis_message: str | None


def score_result(total: int, band: str | None, extra: Mapping[str, Any]) -> dict[str, Any]:
    """What a score reads as in an answer: its total, band and extra results."""
    result: dict[str, Any] = {"total": total} if band is None else {"total": total, "band": band}
    if extra:
        result.update(extra)
    return result


def scores_of(scores: Iterable[InstrumentScore]) -> Scores:
    return {
        score.instrument: score_result(score.total, score.band, score.extra) for score in scores
    }


def columns_of(checkin: MoodCheckIn) -> dict[str, Any]:
    """A stored (or new) check-in's columns, by name."""
    return {name: getattr(checkin, name) for name in COLUMNS}


def checkin_of(checkin: MoodCheckIn) -> CheckIn:
    """The read model of an ORM check-in whose scores are loaded (or were just made)."""
    return CheckIn(**columns_of(checkin), scores=scores_of(checkin.scores))


def checkins_of_joined_rows(names: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[CheckIn]:
    """The read models of the rows of check-ins joined to their scores (`names`: the
    check-ins' columns, which come first in each row, then the score's instrument, total, band
    and extra, all None for a check-in without scores). A check-in's rows come together, its
    scores in instrument order."""
    width, id_at = len(names), names.index("id")
    checkins: list[CheckIn] = []
    last: CheckIn | None = None
    for row in rows:
        if last is None or row[id_at] != last.id:
            last = CheckIn(**dict(zip(names, row[:width], strict=True)), scores={})
            checkins.append(last)
        code, total, band, extra = row[width:]
        if code is not None:
            last.scores[code] = score_result(total, band, extra)
    return checkins
