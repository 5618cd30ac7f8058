"""PHQ-9 and GAD-7 scoring at every band boundary, straight through `Instrument.score`."""

from __future__ import annotations

import pytest

from telehealth.instruments.definitions import INSTRUMENTS
from tests.instruments.scoring_helpers import answers_with_total, reference_band

SETTINGS = {"PCL5_CUTOFF": 33}

# Each band's edges as the clinical reference states them, including the lowest and highest
# possible totals; the labels are written out, not read from the service.
PHQ9_EDGES = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "moderately severe"),
    (19, "moderately severe"),
    (20, "severe"),
    (27, "severe"),
]
GAD7_EDGES = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "severe"),
    (21, "severe"),
]
EDGES = [("PHQ-9", total, band) for total, band in PHQ9_EDGES] + [
    ("GAD-7", total, band) for total, band in GAD7_EDGES
]


@pytest.mark.parametrize("from_end", [False, True], ids=["first-items", "last-items"])
@pytest.mark.parametrize(("code", "total", "band"), EDGES)
def test_band_boundaries(code: str, total: int, band: str, from_end: bool) -> None:
    answers = answers_with_total(code, total, from_end=from_end)
    assert reference_band(code, total) == band  # the table above agrees with the oracle

    score = INSTRUMENTS[code].score(answers, SETTINGS)

    assert score.total == total
    assert score.band == band
    assert score.as_dict() == {"total": total, "band": band}


@pytest.mark.parametrize(("code", "top"), [("PHQ-9", 27), ("GAD-7", 21)])
def test_highest_and_lowest_totals(code: str, top: int) -> None:
    items = 9 if code == "PHQ-9" else 7
    assert INSTRUMENTS[code].score([3] * items, SETTINGS).total == top
    assert INSTRUMENTS[code].score([0] * items, SETTINGS).total == 0


@pytest.mark.parametrize(
    ("nine", "difficulty", "band"),
    [
        # Scored, the difficulty answer would lift the total into the next band.
        ([3, 1, 0, 0, 0, 0, 0, 0, 0], 3, "minimal"),
        ([3, 3, 3, 0, 0, 0, 0, 0, 0], 1, "mild"),
        ([3, 3, 3, 3, 2, 0, 0, 0, 0], 1, "moderate"),
        ([3, 3, 3, 3, 3, 3, 1, 0, 0], 2, "moderately severe"),
        ([0] * 9, 0, "minimal"),
    ],
)
def test_phq9_difficulty_answer_is_accepted_but_not_scored(
    nine: list[int], difficulty: int, band: str
) -> None:
    with_difficulty = INSTRUMENTS["PHQ-9"].score([*nine, difficulty], SETTINGS)
    without = INSTRUMENTS["PHQ-9"].score(nine, SETTINGS)

    assert with_difficulty.total == without.total == sum(nine)
    assert with_difficulty.band == without.band == band
    assert with_difficulty.as_dict() == {"total": sum(nine), "band": band}


def test_the_gad7_difficulty_answer_is_accepted_and_not_scored():
    score = INSTRUMENTS["GAD-7"].score([3, 3, 3, 3, 3, 0, 0, 3], {"PCL5_CUTOFF": 33})
    assert (score.total, score.band) == (15, "severe")
