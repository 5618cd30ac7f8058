"""Outcome rules (clinical reference, "Outcomes (measurement-based care)"): baseline, latest,
change, response (a drop of at least 50 % from baseline), remission (PHQ-9 and GAD-7 under 5;
none for PCL-5) and deterioration (a rise of at least 5 points over baseline)."""

from __future__ import annotations

import pytest

from tests.outcomes.outcome_helpers import (
    CODES,
    days_ago,
    now,
    read_outcomes,
    same_moment,
    series_points,
    submit_totals,
)

# instrument, totals in the order recorded (one day apart), then what the outcome must say
CASES = [
    # one check-in: it is both baseline and latest
    ("PHQ-9", [12], {"change": 0, "response": False, "remission": False, "deterioration": False}),
    ("PHQ-9", [3], {"change": 0, "response": False, "remission": True, "deterioration": False}),
    # response without remission: 20 -> 10 halves the total but 10 is not under 5
    ("PHQ-9", [20, 10], {"change": -10, "response": True, "remission": False}),
    # remission: 12 -> 4 is both
    ("PHQ-9", [12, 4], {"change": -8, "response": True, "remission": True}),
    ("PHQ-9", [12, 5], {"change": -7, "response": True, "remission": False}),
    # the 50 % boundary: exactly half counts, less than half does not
    ("PHQ-9", [10, 5], {"change": -5, "response": True, "remission": False}),
    ("PHQ-9", [10, 6], {"change": -4, "response": False, "remission": False}),
    ("PHQ-9", [9, 4], {"change": -5, "response": True, "remission": True}),
    ("PHQ-9", [9, 5], {"change": -4, "response": False, "remission": False}),
    # a baseline of 0 cannot drop by half of itself in any meaningful way
    ("PHQ-9", [0, 0], {"change": 0, "response": False, "remission": True}),
    # deterioration: +5 is deterioration, +4 is not
    ("PHQ-9", [8, 13], {"change": 5, "response": False, "deterioration": True}),
    ("PHQ-9", [8, 12], {"change": 4, "response": False, "deterioration": False}),
    ("PHQ-9", [0, 24], {"change": 24, "deterioration": True, "remission": False}),
    # judged against the baseline, not the previous score
    ("PHQ-9", [8, 11, 13], {"change": 5, "deterioration": True}),
    ("PHQ-9", [8, 20, 12], {"change": 4, "deterioration": False, "response": False}),
    ("PHQ-9", [16, 4, 9], {"change": -7, "response": False, "remission": False}),
    # GAD-7: the same rules, remission under 5
    ("GAD-7", [15, 4], {"change": -11, "response": True, "remission": True}),
    ("GAD-7", [10, 5], {"change": -5, "response": True, "remission": False}),
    ("GAD-7", [10, 6], {"change": -4, "response": False, "remission": False}),
    ("GAD-7", [6, 11], {"change": 5, "deterioration": True, "remission": False}),
    ("GAD-7", [6, 10], {"change": 4, "deterioration": False}),
    # PCL-5: response and deterioration, but remission is not defined (null)
    ("PCL-5", [40, 20], {"change": -20, "response": True, "remission": None}),
    ("PCL-5", [40, 21], {"change": -19, "response": False, "remission": None}),
    ("PCL-5", [30, 35], {"change": 5, "deterioration": True, "remission": None}),
    ("PCL-5", [30, 34], {"change": 4, "deterioration": False, "remission": None}),
    ("PCL-5", [2], {"change": 0, "response": False, "remission": None}),
]


@pytest.mark.parametrize(
    ("code", "totals", "expected"),
    [pytest.param(*case, id=f"{case[0]}:{'->'.join(map(str, case[1]))}") for case in CASES],
)
def test_outcome_of_a_series(client, world, code, totals, expected):
    start = now()
    moments = [days_ago(len(totals) - i, at=start) for i in range(len(totals))]
    for moment, total in zip(moments, totals, strict=True):
        submit_totals(client, world.patient, moment, **{code.replace("-", "_"): total})

    outcome = read_outcomes(client, world.patient, world.patient)[code]

    assert outcome["baseline"] == totals[0]
    assert same_moment(outcome["baseline_recorded_at"], moments[0])
    assert outcome["latest"] == totals[-1]
    assert same_moment(outcome["latest_recorded_at"], moments[-1])
    assert outcome["change"] == totals[-1] - totals[0]
    for key, value in expected.items():
        assert outcome[key] is value if isinstance(value, bool | None) else outcome[key] == value
    assert series_points(outcome) == list(zip(moments, totals, strict=True))


def test_no_check_ins_means_no_baseline(client, world):
    body = read_outcomes(client, world.patient, world.patient)

    for code in CODES:
        assert body[code] == {
            "baseline": None,
            "baseline_recorded_at": None,
            "latest": None,
            "latest_recorded_at": None,
            "change": None,
            "response": None,
            "remission": None,
            "deterioration": None,
            "series": [],
        }


def test_mood_only_check_ins_give_no_baseline(client, world):
    submit_totals(client, world.patient, days_ago(1))  # mood only, no questionnaire

    body = read_outcomes(client, world.patient, world.patient)

    assert all(body[code]["baseline"] is None and body[code]["series"] == [] for code in CODES)


def test_single_check_in_is_baseline_and_latest(client, world):
    moment = days_ago(1)
    submit_totals(client, world.patient, moment, PHQ_9=14)

    outcome = read_outcomes(client, world.patient, world.patient)["PHQ-9"]

    assert outcome["baseline"] == outcome["latest"] == 14
    assert outcome["baseline_recorded_at"] == outcome["latest_recorded_at"]
    assert same_moment(outcome["latest_recorded_at"], moment)
    assert outcome["change"] == 0
    assert outcome["response"] is False
    assert outcome["deterioration"] is False
    assert outcome["remission"] is False
    assert series_points(outcome) == [(moment, 14)]


def test_instruments_are_judged_separately(client, world):
    """Each instrument has its own baseline: a GAD-7 answered only later starts its own."""
    start = now()
    submit_totals(client, world.patient, days_ago(3, at=start), PHQ_9=20)
    submit_totals(client, world.patient, days_ago(2, at=start), PHQ_9=10, GAD_7=4)
    submit_totals(client, world.patient, days_ago(1, at=start), GAD_7=9, PCL_5=50)

    body = read_outcomes(client, world.patient, world.patient)

    phq9, gad7, pcl5 = body["PHQ-9"], body["GAD-7"], body["PCL-5"]
    assert (phq9["baseline"], phq9["latest"], phq9["response"]) == (20, 10, True)
    assert len(phq9["series"]) == 2
    assert same_moment(gad7["baseline_recorded_at"], days_ago(2, at=start))
    assert (gad7["baseline"], gad7["latest"], gad7["change"]) == (4, 9, 5)
    assert gad7["deterioration"] is True
    assert gad7["remission"] is False
    assert (pcl5["baseline"], pcl5["latest"], pcl5["change"]) == (50, 50, 0)
    assert pcl5["remission"] is None


def test_totals_are_scored_on_the_server_from_the_answers(client, world):
    """The outcome reads the server's sum of the answers, whatever order they come in."""
    submit_totals(client, world.patient, days_ago(2), PHQ_9=0)
    answers = [3, 0, 1, 2, 0, 3, 1, 2, 0]  # 12, item 9 = 0
    response = client.post(
        "/api/v1/checkins",
        headers=world.patient.headers,
        json={"recorded_at": days_ago(1).isoformat(), "mood": 3, "instruments": {"PHQ-9": answers}},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["scores"]["PHQ-9"]["total"] == 12

    outcome = read_outcomes(client, world.patient, world.patient)["PHQ-9"]

    assert (outcome["baseline"], outcome["latest"], outcome["change"]) == (0, 12, 12)
    assert outcome["deterioration"] is True


def test_optional_tenth_phq9_item_is_not_scored(client, world):
    """The PHQ-9 difficulty question may be sent but never counts towards the total."""
    response = client.post(
        "/api/v1/checkins",
        headers=world.patient.headers,
        json={
            "recorded_at": days_ago(1).isoformat(),
            "mood": 5,
            "instruments": {"PHQ-9": [1, 1, 1, 1, 1, 0, 0, 0, 0, 3]},
        },
    )
    assert response.status_code == 201, response.get_json()

    outcome = read_outcomes(client, world.patient, world.patient)["PHQ-9"]

    assert outcome["latest"] == 5
    assert outcome["remission"] is False
