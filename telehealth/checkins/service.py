"""Submitting and reading check-ins; the alerts a check-in raises."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from telehealth.accounts.models import Role, User
from telehealth.alerts.models import AlertKind, AlertSource, SafetyAlert
from telehealth.alerts.service import raise_alerts, triggers
from telehealth.checkins import outcomes
from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.checkins.read import (
    CheckIn,
    SubmittedCheckIn,
    checkins_of_joined_rows,
    columns_of,
    scores_of,
)
from telehealth.db import new_id, table_of, utcnow
from telehealth.errors import NotFound, UnprocessableEntity
from telehealth.instruments.definitions import INSTRUMENTS, PHQ9_SELF_HARM_ITEM
from telehealth.outbound.events import Event
from telehealth.outbound.models import EventType
from telehealth.pagination import ACTOR, Page, SortKey, bound_page, cut, page_params
from telehealth.patients.service import require_visible_patient, visible_patient_ids_of
from telehealth.sessions.models import TreatmentSession

CHECKIN_SOURCE = AlertSource.CHECKIN
INSERT_CHECKIN = table_of(MoodCheckIn).insert()
INSERT_SCORE = table_of(InstrumentScore).insert()


#: Check-ins read as plain rows: every column.
CHECKIN_COLUMNS = select(*table_of(MoodCheckIn).c)

#: A check-in's scores as the read model takes them, after the check-in's columns.
SCORE_RESULTS = tuple(
    table_of(InstrumentScore).c[name] for name in ("instrument", "total", "band", "extra")
)


def _with_their_scores(checkins: Select[Any], newest_first: Sequence[SortKey] = ()) -> Select[Any]:
    """The rows of `checkins` (a statement of their columns, ordered and limited as it likes)
    joined to their scores: one row per score, a check-in without scores once, newest first
    by the keys `newest_first`, then by instrument."""
    page = checkins.subquery()
    scores = table_of(InstrumentScore)
    return (
        select(page, *SCORE_RESULTS)
        .outerjoin(scores, scores.c.checkin_id == page.c.id)
        .order_by(*(page.c[key.attribute].desc() for key in newest_first), scores.c.instrument)
    )


def _read(session: Session, statement: Select[Any], params: dict[str, Any]) -> list[CheckIn]:
    """The check-ins of a statement from `_with_their_scores`, in one round trip."""
    result = session.connection().execute(statement, params)
    names = list(result.keys())[: -len(SCORE_RESULTS)]
    # `all()` takes the rows from the driver in one call; iterating fetches them one by one.
    return checkins_of_joined_rows(names, result.all())


def submit(session: Session, patient: User, data: dict[str, Any]) -> SubmittedCheckIn:
    """Store a patient's check-in, score its questionnaires and raise what they call for: the
    check-in, with the alerts it raised and the crisis text where one calls for it beside it."""
    _refuse_out_of_bounds(data["recorded_at"])
    if data.get("session_id") is not None:
        _require_own_session(session, patient, data["session_id"])
    answers: dict[str, list[int]] = data.pop("instruments", None) or {}
    now = utcnow()
    checkin = MoodCheckIn(
        id=new_id(), patient_id=patient.id, received_at=now, updated_at=now, **data
    )
    settings = current_app.config
    for code, items in answers.items():
        instrument = INSTRUMENTS[code]
        score = instrument.score(items, settings)
        checkin.scores.append(
            InstrumentScore(
                id=new_id(),
                checkin_id=checkin.id,
                patient_id=patient.id,
                instrument=code,
                version=instrument.version,
                recorded_at=checkin.recorded_at,
                answers=items,
                total=score.total,
                band=score.band,
                extra=score.extra,
            )
        )
    # Plain INSERTs (the scores in one statement): the objects only carry the answer, so
    # the ORM's per-object bookkeeping would be all cost and no use.
    session.execute(INSERT_CHECKIN, _columns(checkin))
    if checkin.scores:
        session.execute(INSERT_SCORE, [_columns(score) for score in checkin.scores])
    submitted = Event(
        EventType.CHECKIN_SUBMITTED,
        {"checkin_id": checkin.id, "patient_id": patient.id, "session_id": checkin.session_id},
    )
    alerts = _raise_alerts(session, checkin, answers, along_with=submitted)
    suicidal = any(alert.kind is AlertKind.SUICIDAL_IDEATION for alert in alerts)
    crisis_message = settings["CRISIS_MESSAGE"] if suicidal else None
    return SubmittedCheckIn(
        **columns_of(checkin),
        scores=scores_of(checkin.scores),
        alerts=alerts,
        crisis_message=crisis_message,
    )


def _columns(record: MoodCheckIn | InstrumentScore) -> dict[str, Any]:
    """The column values set on a new, unsaved record."""
    return {
        column.key: record.__dict__[column.key]
        for column in record.__mapper__.column_attrs
        if column.key in record.__dict__
    }


def _refuse_out_of_bounds(recorded_at: datetime) -> None:
    """Not in the future (beyond clock skew), and not older than `CHECKIN_MAX_AGE_DAYS`: a
    phone that was offline may send late, but older answers would silently move baselines and
    outcomes."""
    config, now = current_app.config, utcnow()
    if recorded_at > now + timedelta(minutes=config["CLOCK_SKEW_MINUTES"]):
        raise UnprocessableEntity(
            "A check-in cannot be recorded in the future.",
            errors={"recorded_at": "Must not be in the future (check the phone's clock)."},
        )
    oldest = now - timedelta(days=config["CHECKIN_MAX_AGE_DAYS"])
    if recorded_at < oldest:
        raise UnprocessableEntity(
            "This check-in is too old to record.",
            errors={
                "recorded_at": f"Must be within the last {config['CHECKIN_MAX_AGE_DAYS']} days."
            },
        )


def _require_own_session(session: Session, patient: User, session_id: uuid.UUID) -> None:
    own = session.scalar(
        select(TreatmentSession.id).where(
            TreatmentSession.id == session_id, TreatmentSession.patient_id == patient.id
        )
    )
    if own is None:
        raise UnprocessableEntity(
            "No such session.", errors={"session_id": "Not one of your sessions."}
        )


def _raise_alerts(
    session: Session, checkin: MoodCheckIn, answers: dict[str, list[int]], *, along_with: Event
) -> list[SafetyAlert]:
    """The alerts the check-in's answers call for, raised and announced in the same outbox
    INSERT as `along_with` (the check-in's own event). A new check-in has no alerts yet, so
    every trigger makes one."""
    found: list[tuple[AlertKind, str]] = []
    totals = {score.instrument: score.total for score in checkin.scores}
    phq9 = answers.get("PHQ-9")
    if phq9 is not None and phq9[PHQ9_SELF_HARM_ITEM] > 0:
        found.append(
            (
                AlertKind.SUICIDAL_IDEATION,
                "PHQ-9 item 9 (thoughts of being better off dead or of self-harm) answered "
                f"{phq9[PHQ9_SELF_HARM_ITEM]}: clinician follow-up needed.",
            )
        )
    severe = [
        f"{code} {totals[code]}"
        for code, threshold in (("PHQ-9", 20), ("GAD-7", 15))
        if code in totals and totals[code] >= threshold
    ]
    if severe:
        found.append((AlertKind.SEVERE_SCORE, "Review a severe score: " + ", ".join(severe)))
    worse = _deteriorations(session, checkin, totals)
    if worse:
        found.append((AlertKind.DETERIORATION, "Review a deterioration: " + "; ".join(worse)))
    pending = triggers(
        checkin.patient_id, CHECKIN_SOURCE, checkin.id, found, session_id=checkin.session_id
    )
    return raise_alerts(session, pending, along_with=lambda _created: [along_with])


def _deteriorations(session: Session, checkin: MoodCheckIn, totals: dict[str, int]) -> list[str]:
    if not totals:
        return []
    baselines = outcomes.baseline_totals(session, checkin.patient_id, totals)
    worse = []
    for code, total in totals.items():
        start = baselines.get(code)
        if start is not None and total - start >= outcomes.DETERIORATION_POINTS:
            worse.append(f"{code} rose from {start} (baseline) to {total}")
    return worse


def get_checkin(session: Session, actor: User, checkin_id: uuid.UUID) -> CheckIn:
    """A check-in of a patient the actor may see; 404 otherwise."""
    found = _read(session, ONE_CHECKIN[actor.role], {"checkin_id": checkin_id, ACTOR: actor.id})
    if not found:
        raise NotFound("No such check-in.")
    return found[0]


def list_checkins(
    session: Session,
    actor: User,
    patient_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None = None,
    **filters: Any,
) -> Page[CheckIn]:
    """A page of a patient's check-ins, newest first, with their scores; 404 unless `actor`
    may see the patient. `filters`: `from_`, `to`, `updated_since`, `instrument` (None: not
    filtered).

    One statement reads the page and its scores, and holds the visibility rule itself; only
    an empty page asks again, to tell a patient with nothing to show from one the caller may
    not see."""
    used = {name: value for name, value in filters.items() if value is not None}
    statement = _page_statement(actor.role, frozenset(used), bool(cursor))
    params = {**used, "patient_id": patient_id, ACTOR: actor.id}
    checkins = _read(session, statement, {**params, **page_params(PAGE_KEYS, limit, cursor)})
    if not checkins:
        require_visible_patient(session, actor, patient_id)
    return cut(checkins, PAGE_KEYS, limit)


#: A page of check-ins: newest first.
PAGE_KEYS = (SortKey(MoodCheckIn.recorded_at, "recorded_at"), SortKey(MoodCheckIn.id, "id"))
#: The list's filters, each a condition on a bound parameter of its own name.
FILTERS = {
    "from_": MoodCheckIn.recorded_at >= bindparam("from_"),
    "to": MoodCheckIn.recorded_at < bindparam("to"),
    "updated_since": MoodCheckIn.updated_at >= bindparam("updated_since"),
    "instrument": select(InstrumentScore.id)
    .where(
        InstrumentScore.checkin_id == MoodCheckIn.id,
        InstrumentScore.instrument == bindparam("instrument"),
    )
    .exists(),
}


@functools.cache
def _page_statement(role: Role, filters: frozenset[str], after: bool) -> Select[Any]:
    """The list's statement for a caller of `role`, the filters used and a first page or not,
    built once: building it cost more CPU than running it. Every value is bound: the patient,
    the caller (`ACTOR`), each filter by its name, the page size and the cursor."""
    page = bound_page(
        CHECKIN_COLUMNS.where(
            MoodCheckIn.patient_id == bindparam("patient_id"),
            MoodCheckIn.patient_id.in_(visible_patient_ids_of(role)),
            *(FILTERS[name] for name in sorted(filters)),
        ),
        PAGE_KEYS,
        after=after,
        descending=True,
    )
    return _with_their_scores(page, PAGE_KEYS)


#: One check-in, for a caller of each role (the caller bound as `ACTOR`).
ONE_CHECKIN = {
    role: _with_their_scores(
        CHECKIN_COLUMNS.where(
            MoodCheckIn.id == bindparam("checkin_id"),
            MoodCheckIn.patient_id.in_(visible_patient_ids_of(role)),
        )
    )
    for role in Role
}
