"""A long history streams in bounded memory: 1,100 daily check-ins (three years) are exported
while `tracemalloc` watches every Python allocation of the request, the body consumed chunk by
chunk and written to a file, never joined. Run with `-s` to see the figures.

The first export of each format warms up what is built once per process (FHIR model classes,
compiled SQL), so the peak measures what one export holds at a time."""

from __future__ import annotations

import json
import tracemalloc
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from flask import Flask
from flask.testing import FlaskClient

from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.extensions import db
from telehealth.instruments.definitions import INSTRUMENTS
from tests.export.export_helpers import LOINC, TOTAL_LOINC, codes, export_url, resources
from tests.factories import Actor

DAYS = 1_100
MB = 1024 * 1024
#: A fixed ceiling far above what a streamed export needs and far below a loaded one's.
CEILING = 50 * MB
FIRST_DAY = datetime(2023, 1, 1, 8, 30, tzinfo=UTC)
PHQ9 = INSTRUMENTS["PHQ-9"]


@dataclass
class Inserted:
    checkin_ids: list[str]
    score_ids: list[str]
    totals: list[int]


def insert_daily_checkins(app: Flask, patient: Actor, first: int, count: int) -> Inserted:
    """`count` daily check-ins, day `first` onwards, each with a PHQ-9, in one transaction."""
    inserted = Inserted([], [], [])
    with app.app_context(), db.begin() as session:
        for day in range(first, first + count):
            recorded = FIRST_DAY + timedelta(days=day)
            answers = [day % 4, (day // 4) % 4, 1, 0, 2, 1, 0, 1, 0]
            checkin = MoodCheckIn(
                id=uuid.uuid4(),
                patient_id=patient.user.id,
                recorded_at=recorded,
                mood=day % 11,
                anxiety=(day * 7) % 11,
                sleep_hours=6.5,
                note=f"Day {day}: slept badly, walked the dog, felt a bit lighter by evening.",
            )
            score = InstrumentScore(
                id=uuid.uuid4(),
                patient_id=patient.user.id,
                instrument="PHQ-9",
                version=PHQ9.version,
                recorded_at=recorded,
                answers=answers,
                total=sum(answers),
                band=PHQ9.band_for(sum(answers)),
            )
            checkin.scores.append(score)
            session.add(checkin)
            inserted.checkin_ids.append(str(checkin.id))
            inserted.score_ids.append(str(score.id))
            inserted.totals.append(score.total)
    return inserted


def merged(*parts: Inserted) -> Inserted:
    return Inserted(
        [i for part in parts for i in part.checkin_ids],
        [i for part in parts for i in part.score_ids],
        [t for part in parts for t in part.totals],
    )


@dataclass
class Streamed:
    size: int
    chunks: int
    peak: int

    def report(self, label: str) -> str:
        return (
            f"{label}: body {self.size / MB:.2f} MB in {self.chunks} chunks, "
            f"peak Python allocation {self.peak / MB:.2f} MB "
            f"({self.peak / self.size:.2f} x the body)"
        )


def stream_to_file(client: FlaskClient, actor: Actor, sink: Path, fmt: str) -> Streamed:
    """Export `actor`'s record chunk by chunk into `sink`, tracing allocations meanwhile."""
    assert not tracemalloc.is_tracing(), "run without -X tracemalloc: this test traces itself"
    size = chunks = 0
    tracemalloc.start()
    try:
        with (
            sink.open("wb") as out,
            client.get(
                export_url(actor.id),
                headers=actor.headers,
                query_string={"format": fmt},
                buffered=False,
            ) as response,
        ):
            assert response.status_code == 200
            for chunk in response.iter_encoded():
                size += len(chunk)
                chunks += 1
                out.write(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Streamed(size, chunks, peak)


def warm_up(client: FlaskClient, actor: Actor, fmt: str) -> None:
    with client.get(
        export_url(actor.id), headers=actor.headers, query_string={"format": fmt}
    ) as response:
        assert response.status_code == 200
        response.get_data()


def test_json_export_of_1100_daily_checkins_streams_in_bounded_memory(
    app: Flask, client: FlaskClient, world: Any, tmp_path: Path
) -> None:
    patient = world.patient
    first = insert_daily_checkins(app, patient, 0, 1)
    warm_up(client, patient, "json")
    history = merged(first, insert_daily_checkins(app, patient, 1, DAYS - 1))

    streamed = stream_to_file(client, patient, tmp_path / "record.json", "json")
    print("\n" + streamed.report(f"JSON, {DAYS} check-ins"))

    body = json.loads((tmp_path / "record.json").read_text())
    assert [item["id"] for item in body["checkins"]] == history.checkin_ids
    assert [item["scores"]["PHQ-9"]["total"] for item in body["checkins"]] == history.totals
    assert streamed.chunks > DAYS, "streamed piece by piece, not as one block"
    assert streamed.peak < CEILING

    # Twice the history: the body grows, what the export holds at a time does not.
    insert_daily_checkins(app, patient, DAYS, DAYS)
    doubled = stream_to_file(client, patient, tmp_path / "record2.json", "json")
    print(doubled.report(f"JSON, {2 * DAYS} check-ins"))
    assert doubled.size > 1.9 * streamed.size
    assert doubled.peak < CEILING
    # Rows loaded all at once roughly double the peak with the history (measured: x1.95).
    assert doubled.peak < 1.5 * streamed.peak


def test_fhir_export_of_1100_daily_checkins_streams_in_bounded_memory(
    app: Flask, client: FlaskClient, world: Any, tmp_path: Path
) -> None:
    patient = world.patient
    first = insert_daily_checkins(app, patient, 0, 1)
    warm_up(client, patient, "fhir")
    history = merged(first, insert_daily_checkins(app, patient, 1, DAYS - 1))

    streamed = stream_to_file(client, patient, tmp_path / "record.fhir.json", "fhir")
    print("\n" + streamed.report(f"FHIR, {DAYS} check-ins"))

    text = (tmp_path / "record.fhir.json").read_text()
    assert Bundle.model_validate_json(text).type == "collection"
    bundle = json.loads(text)
    responses = resources(bundle, "QuestionnaireResponse")
    assert [resource["id"] for resource in responses] == history.score_ids
    totals = [
        observation["valueInteger"]
        for observation in resources(bundle, "Observation")
        if codes(observation["code"], LOINC) == {TOTAL_LOINC["PHQ-9"]}
    ]
    assert totals == history.totals
    assert streamed.chunks > 2 * DAYS, "one chunk per resource, not one block"
    assert streamed.peak < CEILING
    assert streamed.peak < 2.5 * streamed.size

    insert_daily_checkins(app, patient, DAYS, DAYS)
    doubled = stream_to_file(client, patient, tmp_path / "record2.fhir.json", "fhir")
    print(doubled.report(f"FHIR, {2 * DAYS} check-ins"))
    assert doubled.size > 1.9 * streamed.size
    assert doubled.peak < CEILING
    assert doubled.peak < 1.5 * streamed.peak
