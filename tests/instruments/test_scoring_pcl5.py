"""PCL-5: the probable-PTSD screen (total at or above a configurable cut-off) and the DSM-5
provisional-diagnosis rule (items rated 2+ endorsed; 1 B, 1 C, 2 D, 2 E), which can disagree."""

from __future__ import annotations

from typing import Any

import pytest

from telehealth.instruments.definitions import INSTRUMENTS
from tests.instruments.scoring_helpers import (
    answers_with_total,
    pcl5_answers,
    reference_pcl5,
)

PCL5 = INSTRUMENTS["PCL-5"]


def score(answers: list[int], cutoff: int = 33) -> dict[str, Any]:
    return PCL5.score(answers, {"PCL5_CUTOFF": cutoff}).as_dict()


def test_pcl5_has_no_severity_band() -> None:
    result = PCL5.score(answers_with_total("PCL-5", 50), {"PCL5_CUTOFF": 33})
    assert result.band is None
    assert set(result.as_dict()) == {"total", "probable_ptsd", "provisional_ptsd"}


@pytest.mark.parametrize("from_end", [False, True], ids=["first-items", "last-items"])
@pytest.mark.parametrize(
    ("total", "probable"), [(0, False), (32, False), (33, True), (34, True), (80, True)]
)
def test_probable_ptsd_at_the_default_cutoff_of_33(
    total: int, probable: bool, from_end: bool
) -> None:
    answers = answers_with_total("PCL-5", total, from_end=from_end)
    result = score(answers)
    assert result["total"] == total
    assert result["probable_ptsd"] is probable
    assert result == reference_pcl5(answers)


@pytest.mark.parametrize(
    ("cutoff", "total", "probable"),
    [
        (31, 30, False),
        (31, 31, True),
        (31, 32, True),
        (32, 31, False),
        (32, 32, True),
        (33, 31, False),
        (33, 32, False),
    ],
)
def test_cutoff_is_a_setting(cutoff: int, total: int, probable: bool) -> None:
    result = score(answers_with_total("PCL-5", total), cutoff=cutoff)
    assert result["total"] == total
    assert result["probable_ptsd"] is probable


@pytest.mark.parametrize("c", [[0, 0], [0, 1], [1, 0], [1, 1]])
def test_high_total_without_an_endorsed_c_item_is_probable_but_not_provisional(
    c: list[int],
) -> None:
    answers = pcl5_answers(b=[4] * 5, c=c, d=[4] * 7, e=[4] * 6)
    result = score(answers)
    assert result == {"total": 72 + sum(c), "probable_ptsd": True, "provisional_ptsd": False}


# Every other cluster at 4; the one under test rated at most 1, or (D and E, which need two)
# with only one item endorsed.
MISSING = {
    "B none": {"b": [1, 1, 1, 1, 1]},
    "C none": {"c": [1, 1]},
    "D none": {"d": [1] * 7},
    "E none": {"e": [1] * 6},
    "D only first": {"d": [4, 1, 1, 1, 1, 1, 1]},
    "D only last": {"d": [0, 0, 0, 0, 0, 0, 4]},
    "E only first": {"e": [4, 1, 1, 1, 1, 1]},
    "E only last": {"e": [0, 0, 0, 0, 0, 3]},
}


@pytest.mark.parametrize("short", MISSING.values(), ids=MISSING.keys())
def test_provisional_needs_every_cluster(short: dict[str, list[int]]) -> None:
    clusters = {"b": [4] * 5, "c": [4] * 2, "d": [4] * 7, "e": [4] * 6, **short}
    answers = pcl5_answers(**clusters)
    result = score(answers)
    assert result["provisional_ptsd"] is False
    assert result["probable_ptsd"] is True  # every such total is well above 33
    assert result == reference_pcl5(answers)


# Exactly the minimum: 1 B, 1 C, 2 D and 2 E items at 2, everything else 0 (total 12); the
# endorsed items sit at each cluster's first, last or inner positions, so a cluster drawn one
# item too wide or too narrow changes the result.
MINIMUM = {
    "first items": pcl5_answers(
        b=[2, 0, 0, 0, 0], c=[2, 0], d=[2, 2, 0, 0, 0, 0, 0], e=[2, 2] + [0] * 4
    ),
    "last items": pcl5_answers(b=[0, 0, 0, 0, 2], c=[0, 2], d=[0] * 5 + [2, 2], e=[0] * 4 + [2, 2]),
    "spread": pcl5_answers(
        b=[0, 0, 2, 0, 0], c=[2, 0], d=[0, 2, 0, 0, 0, 2, 0], e=[0, 2, 0, 2, 0, 0]
    ),
}


@pytest.mark.parametrize("answers", MINIMUM.values(), ids=MINIMUM.keys())
def test_minimum_endorsements_are_provisional_but_not_probable(answers: list[int]) -> None:
    assert score(answers) == {"total": 12, "probable_ptsd": False, "provisional_ptsd": True}


@pytest.mark.parametrize("answers", MINIMUM.values(), ids=MINIMUM.keys())
@pytest.mark.parametrize("lowered", range(6))
def test_one_endorsement_fewer_than_the_minimum_is_not_provisional(
    answers: list[int], lowered: int
) -> None:
    """Lowering any one of the six endorsed items from 2 to 1 (not endorsed) breaks the rule."""
    endorsed = [index for index, answer in enumerate(answers) if answer == 2]
    assert len(endorsed) == 6
    answers = list(answers)
    answers[endorsed[lowered]] = 1
    assert score(answers) == {"total": 11, "probable_ptsd": False, "provisional_ptsd": False}


def test_value_one_is_not_endorsed() -> None:
    assert score([1] * 20) == {"total": 20, "probable_ptsd": False, "provisional_ptsd": False}
    assert score([2] * 20) == {"total": 40, "probable_ptsd": True, "provisional_ptsd": True}


def test_endorsements_out_of_their_cluster_do_not_count() -> None:
    """Eight endorsed items, but all in B and D: C and E are missing."""
    answers = pcl5_answers(b=[4] * 5, d=[4, 4, 4, 0, 0, 0, 0])
    assert score(answers) == {"total": 32, "probable_ptsd": False, "provisional_ptsd": False}
