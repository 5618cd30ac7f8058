"""The instruments as their publications state them (PHQ-9, GAD-7, PCL-5), written out here
independently of `telehealth.instruments`, so the tests check the service against the reference
rather than against itself; plus answer-vector builders and check-in request helpers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from telehealth.alerts.models import SafetyAlert
from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.extensions import db
from tests.factories import Actor

# --- The oracle: the clinical reference's "Instruments" table and rules ----------------------


@dataclass(frozen=True)
class Reference:
    code: str
    items: int
    item_max: int
    recall: str
    #: (low, high, label), inclusive; empty where the instrument has no severity bands.
    bands: tuple[tuple[int, int, str], ...]

    @property
    def total_max(self) -> int:
        return self.items * self.item_max


PHQ9 = Reference(
    "PHQ-9",
    items=9,
    item_max=3,
    recall="2 weeks",
    bands=(
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately severe"),
        (20, 27, "severe"),
    ),
)
GAD7 = Reference(
    "GAD-7",
    items=7,
    item_max=3,
    recall="2 weeks",
    bands=((0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")),
)
PCL5 = Reference("PCL-5", items=20, item_max=4, recall="1 month", bands=())
REFERENCES = {ref.code: ref for ref in (PHQ9, GAD7, PCL5)}

PCL5_DEFAULT_CUTOFF = 33
#: DSM-5 clusters by 1-based PCL-5 item number, and how many endorsed items each needs.
PCL5_CLUSTERS = {"B": range(1, 6), "C": range(6, 8), "D": range(8, 15), "E": range(15, 21)}
PCL5_NEEDED = {"B": 1, "C": 1, "D": 2, "E": 2}
PCL5_ENDORSED_AT = 2
#: PHQ-9 item 9 (thoughts of being better off dead or of self-harm), 1-based.
PHQ9_SELF_HARM_ITEM = 9
SEVERE_AT = {"PHQ-9": 20, "GAD-7": 15}


def reference_band(code: str, total: int) -> str | None:
    matches = [label for low, high, label in REFERENCES[code].bands if low <= total <= high]
    assert len(matches) <= 1, (code, total, matches)
    return matches[0] if matches else None


def reference_pcl5(answers: Sequence[int], cutoff: int = PCL5_DEFAULT_CUTOFF) -> dict[str, Any]:
    assert len(answers) == PCL5.items
    total = sum(answers)

    def endorsed(cluster: str) -> int:
        return sum(1 for item in PCL5_CLUSTERS[cluster] if answers[item - 1] >= PCL5_ENDORSED_AT)

    return {
        "total": total,
        "probable_ptsd": total >= cutoff,
        "provisional_ptsd": all(endorsed(c) >= need for c, need in PCL5_NEEDED.items()),
    }


def reference_score(
    code: str, answers: Sequence[int], cutoff: int = PCL5_DEFAULT_CUTOFF
) -> dict[str, Any]:
    """What the response's `scores[code]` must be: only the reference's scored items count."""
    scored = list(answers[: REFERENCES[code].items])
    if code == "PCL-5":
        return reference_pcl5(scored, cutoff)
    total = sum(scored)
    return {"total": total, "band": reference_band(code, total)}


# --- Answer vectors -------------------------------------------------------------------------


def answers_with_total(code: str, total: int, *, from_end: bool = False) -> list[int]:
    """Valid answers for `code` summing to exactly `total`: the top answer on as many items as
    it takes, then the remainder, then zeros; `from_end` fills from the last item instead."""
    ref = REFERENCES[code]
    assert 0 <= total <= ref.total_max, (code, total)
    full, rest = divmod(total, ref.item_max)
    answers = [ref.item_max] * full + ([rest] if rest else [])
    answers += [0] * (ref.items - len(answers))
    if from_end:
        answers.reverse()
    assert len(answers) == ref.items and sum(answers) == total
    assert all(0 <= answer <= ref.item_max for answer in answers)
    return answers


def phq9_without_self_harm(total: int) -> list[int]:
    """PHQ-9 answers summing to `total` (at most 24: items 1-8 at 3) with item 9 at 0."""
    answers = answers_with_total("PHQ-9", total)
    assert answers[PHQ9_SELF_HARM_ITEM - 1] == 0, total
    return answers


def pcl5_answers(
    *,
    b: Sequence[int] = (0,) * 5,
    c: Sequence[int] = (0,) * 2,
    d: Sequence[int] = (0,) * 7,
    e: Sequence[int] = (0,) * 6,
) -> list[int]:
    """PCL-5 answers written cluster by cluster (B items 1-5, C 6-7, D 8-14, E 15-20)."""
    by_cluster = {"B": b, "C": c, "D": d, "E": e}
    for cluster, values in by_cluster.items():
        assert len(values) == len(PCL5_CLUSTERS[cluster]), cluster
    return [*b, *c, *d, *e]


# --- Check-ins through the API --------------------------------------------------------------

API = "/api/v1"
CHECKINS = f"{API}/checkins"
INSTRUMENTS_URL = f"{API}/instruments"
EASTERN = timezone(timedelta(hours=-5))


def recorded_at(hours_ago: float = 2) -> str:
    """An RFC 3339 time in the past with a non-UTC offset."""
    moment = datetime.now(EASTERN) - timedelta(hours=hours_ago)
    return moment.replace(microsecond=0).isoformat()


def checkin_body(instruments: Any, **extra: Any) -> dict[str, Any]:
    return {"recorded_at": recorded_at(), "mood": 5, "instruments": instruments, **extra}


def submit(
    client: FlaskClient,
    actor: Actor,
    instruments: Any,
    *,
    idempotency_key: str | None = None,
    **extra: Any,
) -> TestResponse:
    headers = dict(actor.headers)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return client.post(CHECKINS, json=checkin_body(instruments, **extra), headers=headers)


def submitted(client: FlaskClient, actor: Actor, instruments: Any, **extra: Any) -> dict[str, Any]:
    """POST a check-in that must be accepted; its body."""
    response = submit(client, actor, instruments, **extra)
    assert response.status_code == 201, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def stored_rows(app: Flask) -> dict[str, int]:
    """How many check-ins, instrument scores and safety alerts the database holds."""
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (MoodCheckIn, InstrumentScore, SafetyAlert)
        }


def alerts_of_checkin(app: Flask, checkin_id: str) -> list[SafetyAlert]:
    """The safety alerts stored for one check-in."""
    source = uuid.UUID(checkin_id)
    with app.app_context():
        return list(db.session.scalars(select(SafetyAlert).where(SafetyAlert.source_id == source)))
