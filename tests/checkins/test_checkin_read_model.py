"""One read model for a check-in: the submit answer, the single read and the list (and the JSON
export) all write a check-in from `telehealth.checkins.read.CheckIn`, so they write it alike,
scores and all."""

from __future__ import annotations

from dataclasses import fields

import pytest

from telehealth.checkins.models import MoodCheckIn
from telehealth.checkins.read import COLUMNS, CheckIn, SubmittedCheckIn, score_result
from telehealth.checkins.schemas import CheckInOut, SubmittedCheckInOut
from telehealth.db import table_of
from tests.checkins.checkin_helpers import (
    GAD7_MILD,
    PCL5_LOW,
    PHQ9_ITEM9_ONE,
    PHQ9_MILD,
    checkin_body,
    list_page,
    read_checkin,
    submitted,
)

pytestmark = pytest.mark.usefixtures("clock")

BESIDE = ("alerts", "crisis_message")


def alone(answer):
    """A submit answer without what is written beside the check-in."""
    return {key: value for key, value in answer.items() if key not in BESIDE}


def test_the_read_model_holds_every_column_of_a_check_in_then_its_scores():
    assert set(COLUMNS) == set(table_of(MoodCheckIn).c.keys())
    assert [field.name for field in fields(CheckIn)] == [*COLUMNS, "scores"]


def test_the_output_schemas_write_the_read_models_fields_in_their_order():
    assert list(CheckInOut().fields) == [field.name for field in fields(CheckIn)]
    assert list(SubmittedCheckInOut().fields) == [field.name for field in fields(SubmittedCheckIn)]


def test_the_answer_the_single_read_and_the_list_write_a_scored_check_in_alike(
    client, world, session_id
):
    body = checkin_body(
        mood=4,
        anxiety=6,
        sleep_hours=6.5,
        note="Slept badly.",
        context="pre_session",
        session_id=session_id,
        instruments={"PHQ-9": PHQ9_MILD, "GAD-7": GAD7_MILD, "PCL-5": PCL5_LOW},
    )

    answer = submitted(client, world.patient, body)

    assert set(answer["scores"]) == {"PHQ-9", "GAD-7", "PCL-5"}
    assert "probable_ptsd" in answer["scores"]["PCL-5"]
    for reader in (world.patient, world.clinician):
        assert read_checkin(client, reader, answer["id"]) == alone(answer)
        assert list_page(client, reader, world.patient.id)["items"] == [alone(answer)]


def test_a_check_in_without_answers_reads_with_no_scores_on_every_path(client, world):
    answer = submitted(client, world.patient, checkin_body(anxiety=None, note=None))

    assert answer["scores"] == {}
    assert answer["session_id"] is None and answer["anxiety"] is None
    assert read_checkin(client, world.clinician, answer["id"]) == alone(answer)
    assert list_page(client, world.clinician, world.patient.id)["items"] == [alone(answer)]


def test_a_page_pairs_each_check_in_with_its_own_scores_only(client, world):
    first = submitted(client, world.patient, checkin_body(instruments={"PHQ-9": PHQ9_MILD}))
    second = submitted(client, world.patient, checkin_body(instruments={"GAD-7": GAD7_MILD}))
    third = submitted(client, world.patient, checkin_body())

    items = list_page(client, world.clinician, world.patient.id)["items"]

    by_id = {item["id"]: item["scores"] for item in items}
    assert by_id == {
        first["id"]: first["scores"],
        second["id"]: second["scores"],
        third["id"]: {},
    }


def test_the_answer_carries_the_alerts_and_the_crisis_text_beside_the_check_in(client, world):
    answer = submitted(client, world.patient, checkin_body(instruments={"PHQ-9": PHQ9_ITEM9_ONE}))

    assert [alert["kind"] for alert in answer["alerts"]] == ["suicidal_ideation"]
    assert answer["crisis_message"]
    assert read_checkin(client, world.patient, answer["id"]) == alone(answer)


def test_a_score_reads_as_its_total_its_band_when_it_has_one_then_its_extra_results():
    assert score_result(6, "mild", {}) == {"total": 6, "band": "mild"}
    assert score_result(12, None, {"probable_ptsd": False}) == {
        "total": 12,
        "probable_ptsd": False,
    }
    assert list(score_result(40, "severe", {"probable_ptsd": True})) == [
        "total",
        "band",
        "probable_ptsd",
    ]
