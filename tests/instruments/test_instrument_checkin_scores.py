"""POST /checkins scores questionnaires on the server and refuses, whole, any questionnaire with
an item missing, extra, out of range or not an integer, and any total the client sends."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import World
from tests.instruments.scoring_helpers import (
    answers_with_total,
    pcl5_answers,
    reference_score,
    stored_rows,
    submit,
    submitted,
)
from tests.problems import assert_problem

NOTHING = {"mood_checkins": 0, "instrument_scores": 0, "safety_alerts": 0}

# Whole check-ins: every instrument scored as the clinical reference says.
SUBMISSIONS = {
    "all three, low": {
        "PHQ-9": [0, 1, 0, 1, 0, 1, 0, 1, 0],
        "GAD-7": [1, 1, 1, 1, 0, 0, 0],
        "PCL-5": answers_with_total("PCL-5", 32),
    },
    "all three, band edges": {
        "PHQ-9": [2, 2, 2, 2, 2, 2, 1, 1, 1],
        "GAD-7": answers_with_total("GAD-7", 10),
        "PCL-5": pcl5_answers(
            b=[2, 0, 0, 0, 0], c=[0, 2], d=[2, 0, 0, 0, 0, 0, 2], e=[2, 2] + [0] * 4
        ),
    },
    "PHQ-9 alone": {"PHQ-9": [1, 1, 1, 1, 1, 0, 0, 0, 0]},
    "GAD-7 alone": {"GAD-7": [3, 3, 3, 3, 2, 0, 0]},
    "PCL-5 high, no C": {"PCL-5": pcl5_answers(b=[4] * 5, c=[1, 1], d=[4] * 7, e=[4] * 6)},
    "PCL-5 at the cut-off": {"PCL-5": answers_with_total("PCL-5", 33)},
}


@pytest.mark.parametrize("instruments", SUBMISSIONS.values(), ids=SUBMISSIONS.keys())
def test_scores_are_computed_on_the_server(
    app: Flask, client: FlaskClient, world: World, instruments: dict[str, list[int]]
) -> None:
    expected = {code: reference_score(code, answers) for code, answers in instruments.items()}

    body = submitted(client, world.patient, instruments)

    assert body["scores"] == expected
    assert stored_rows(app)["mood_checkins"] == 1
    assert stored_rows(app)["instrument_scores"] == len(instruments)
    # Read back, the stored scores are the same.
    again = client.get(f"/api/v1/checkins/{body['id']}", headers=world.patient.headers)
    assert again.status_code == 200
    assert again.get_json()["scores"] == expected


def test_pcl5_results_in_the_response(client: FlaskClient, world: World) -> None:
    minimum = pcl5_answers(b=[0, 0, 0, 0, 2], c=[2, 0], d=[0, 2, 0, 2, 0, 0, 0], e=[0] * 4 + [2, 2])
    high_without_c = pcl5_answers(b=[4] * 5, c=[0, 1], d=[4] * 7, e=[4] * 6)

    low = submitted(client, world.patient, {"PCL-5": minimum})["scores"]["PCL-5"]
    high = submitted(client, world.patient, {"PCL-5": high_without_c})["scores"]["PCL-5"]

    assert low == {"total": 12, "probable_ptsd": False, "provisional_ptsd": True}
    assert high == {"total": 73, "probable_ptsd": True, "provisional_ptsd": False}


@pytest.mark.parametrize(("total", "probable"), [(32, False), (33, True)])
def test_pcl5_default_cutoff_is_33(
    client: FlaskClient, world: World, total: int, probable: bool
) -> None:
    scores = submitted(client, world.patient, {"PCL-5": answers_with_total("PCL-5", total)})
    assert scores["scores"]["PCL-5"]["total"] == total
    assert scores["scores"]["PCL-5"]["probable_ptsd"] is probable


@pytest.mark.parametrize(("total", "probable"), [(30, False), (31, True)])
def test_pcl5_cutoff_follows_the_setting(
    app: Flask,
    client: FlaskClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    total: int,
    probable: bool,
) -> None:
    monkeypatch.setitem(app.config, "PCL5_CUTOFF", 31)
    scores = submitted(client, world.patient, {"PCL-5": answers_with_total("PCL-5", total)})
    assert scores["scores"]["PCL-5"]["probable_ptsd"] is probable


@pytest.mark.parametrize("difficulty", [0, 1, 3])
def test_phq9_difficulty_answer_is_accepted_and_not_scored(
    app: Flask, client: FlaskClient, world: World, difficulty: int
) -> None:
    nine = [3, 3, 3, 0, 0, 0, 0, 0, 0]  # 9, mild; with the difficulty answer it would be 10+

    body = submitted(client, world.patient, {"PHQ-9": [*nine, difficulty]})

    assert body["scores"] == {"PHQ-9": {"total": 9, "band": "mild"}}
    # The tenth answer is not item 9: a difficulty answer raises no suicidal-ideation alert.
    assert body["alerts"] == []
    assert stored_rows(app)["instrument_scores"] == 1


# --- Refusals ------------------------------------------------------------------------------

ZERO = {"PHQ-9": [0] * 9, "GAD-7": [0] * 7, "PCL-5": [0] * 20}


def replaced(code: str, index: int, value: Any) -> list[Any]:
    answers: list[Any] = list(ZERO[code])
    answers[index] = value
    return answers


BAD_ANSWERS = {
    "PHQ-9 8 answers": ("PHQ-9", [1] * 8),
    "PHQ-9 11 answers": ("PHQ-9", [1] * 11),
    "PHQ-9 none": ("PHQ-9", []),
    "GAD-7 6 answers": ("GAD-7", [1] * 6),
    "GAD-7 9 answers": ("GAD-7", [1] * 9),  # 7 items + the optional difficulty answer, + 1
    "PCL-5 19 answers": ("PCL-5", [1] * 19),
    "PCL-5 21 answers": ("PCL-5", [1] * 21),
    "PHQ-9 item -1": ("PHQ-9", replaced("PHQ-9", 0, -1)),
    "PHQ-9 item 4": ("PHQ-9", replaced("PHQ-9", 4, 4)),
    "PHQ-9 item 9 at 4": ("PHQ-9", replaced("PHQ-9", 8, 4)),
    "PHQ-9 difficulty 4": ("PHQ-9", [0] * 9 + [4]),
    "PHQ-9 difficulty -1": ("PHQ-9", [0] * 9 + [-1]),
    "GAD-7 item -1": ("GAD-7", replaced("GAD-7", 6, -1)),
    "GAD-7 item 4": ("GAD-7", replaced("GAD-7", 3, 4)),
    "PCL-5 item 5": ("PCL-5", replaced("PCL-5", 19, 5)),
    "PCL-5 item -1": ("PCL-5", replaced("PCL-5", 0, -1)),
    "PHQ-9 1.5": ("PHQ-9", replaced("PHQ-9", 2, 1.5)),
    'PHQ-9 "2"': ("PHQ-9", replaced("PHQ-9", 2, "2")),
    "PHQ-9 true": ("PHQ-9", replaced("PHQ-9", 2, True)),
    "PHQ-9 false": ("PHQ-9", replaced("PHQ-9", 2, False)),
    "PHQ-9 null": ("PHQ-9", replaced("PHQ-9", 2, None)),
    "GAD-7 1.5": ("GAD-7", replaced("GAD-7", 0, 1.5)),
    "GAD-7 true": ("GAD-7", replaced("GAD-7", 0, True)),
    'PCL-5 "2"': ("PCL-5", replaced("PCL-5", 10, "2")),
    "PCL-5 true": ("PCL-5", replaced("PCL-5", 10, True)),
    "PHQ-9 not a list": ("PHQ-9", "0,0,0,0,0,0,0,0,0"),
    "PHQ-9 null list": ("PHQ-9", None),
}


@pytest.mark.parametrize(("code", "answers"), BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
def test_bad_answers_are_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, world: World, code: str, answers: Any
) -> None:
    response = submit(client, world.patient, {code: answers})
    assert_problem(response, 422, f"instruments.{code}")
    assert stored_rows(app) == NOTHING


@pytest.mark.parametrize(("code", "answers"), BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
def test_one_bad_questionnaire_refuses_the_whole_checkin(
    app: Flask, client: FlaskClient, world: World, code: str, answers: Any
) -> None:
    """Never partly scored: valid answers beside the bad ones (PHQ-9 item 9 and severe totals
    that would raise alerts) are stored no more than the bad ones."""
    instruments = {"PHQ-9": [3] * 9, "GAD-7": [3] * 7, "PCL-5": [4] * 20, code: answers}
    response = submit(client, world.patient, instruments)
    assert_problem(response, 422, f"instruments.{code}")
    assert stored_rows(app) == NOTHING


@pytest.mark.parametrize(
    "instruments",
    [
        {"PHQ9": [0] * 9},
        {"phq-9": [0] * 9},
        {"PHQ-2": [0, 0]},
        {"BDI-II": [0] * 21},
        {"": [0]},
        {"PHQ-9": [0] * 9, "GAD-2": [0, 0]},
    ],
    ids=["PHQ9", "phq-9", "PHQ-2", "BDI-II", "empty", "known and unknown"],
)
def test_unknown_instrument_is_refused(
    app: Flask, client: FlaskClient, world: World, instruments: dict[str, list[int]]
) -> None:
    response = submit(client, world.patient, instruments)
    assert_problem(response, 422, "instruments")
    assert stored_rows(app) == NOTHING


@pytest.mark.parametrize("instruments", [[0] * 9, [[0] * 9], "PHQ-9", 9])
def test_instruments_must_be_an_object(
    app: Flask, client: FlaskClient, world: World, instruments: Any
) -> None:
    assert_problem(submit(client, world.patient, instruments), 422, "instruments")
    assert stored_rows(app) == NOTHING


@pytest.mark.parametrize("field", ["total", "score", "scores", "band"])
def test_client_total_at_top_level_is_refused(
    app: Flask, client: FlaskClient, world: World, field: str
) -> None:
    response = submit(client, world.patient, {"PHQ-9": [0] * 9}, **{field: 27})
    assert_problem(response, 422, field)
    assert stored_rows(app) == NOTHING


@pytest.mark.parametrize(
    "questionnaire",
    [
        {"answers": [0] * 9, "total": 3},
        {"answers": [0] * 9, "score": 3},
        {"answers": [0] * 9},
        {"total": 3},
    ],
    ids=["answers and total", "answers and score", "answers only", "total only"],
)
def test_client_total_inside_a_questionnaire_is_refused(
    app: Flask, client: FlaskClient, world: World, questionnaire: dict[str, Any]
) -> None:
    response = submit(client, world.patient, {"PHQ-9": questionnaire})
    assert_problem(response, 422, "instruments.PHQ-9")
    assert stored_rows(app) == NOTHING


def test_client_scores_beside_answers_are_refused(
    app: Flask, client: FlaskClient, world: World
) -> None:
    scores = {"PHQ-9": {"total": 0, "band": "minimal"}}
    response = submit(client, world.patient, {"PHQ-9": [3] * 9}, scores=scores)
    assert_problem(response, 422, "scores")
    assert stored_rows(app) == NOTHING
