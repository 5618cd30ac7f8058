"""For any valid answers, the service's score is the reference's: total = item sum, band from
the reference table, PCL-5 screen and DSM-5 rule from an implementation written in the test."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from telehealth.instruments.definitions import INSTRUMENTS
from tests.instruments.scoring_helpers import (
    GAD7,
    PCL5,
    PCL5_DEFAULT_CUTOFF,
    PHQ9,
    reference_band,
    reference_pcl5,
)

SETTINGS = {"PCL5_CUTOFF": PCL5_DEFAULT_CUTOFF}


def answers(ref_items: int, item_max: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, item_max), min_size=ref_items, max_size=ref_items)


# Uniform answers endorse most PCL-5 items; mixing in mostly-low answer sets reaches the
# totals around the cut-off and the clusters left unendorsed.
pcl5_answers = st.one_of(answers(PCL5.items, 4), answers(PCL5.items, 2), answers(PCL5.items, 1))


@settings(max_examples=200, deadline=None)
@given(nine=answers(PHQ9.items, 3), difficulty=st.lists(st.integers(0, 3), max_size=1))
def test_phq9_scores_as_the_reference(nine: list[int], difficulty: list[int]) -> None:
    score = INSTRUMENTS["PHQ-9"].score(nine + difficulty, SETTINGS)
    total = sum(nine)
    assert score.total == total
    assert score.band == reference_band("PHQ-9", total)
    assert score.as_dict() == {"total": total, "band": reference_band("PHQ-9", total)}


@settings(max_examples=200, deadline=None)
@given(seven=answers(GAD7.items, 3))
def test_gad7_scores_as_the_reference(seven: list[int]) -> None:
    score = INSTRUMENTS["GAD-7"].score(seven, SETTINGS)
    assert score.total == sum(seven)
    assert score.band == reference_band("GAD-7", sum(seven))
    assert score.as_dict() == {"total": sum(seven), "band": reference_band("GAD-7", sum(seven))}


@settings(max_examples=200, deadline=None)
@given(twenty=pcl5_answers, cutoff=st.integers(0, PCL5.total_max))
def test_pcl5_scores_as_the_reference(twenty: list[int], cutoff: int) -> None:
    score = INSTRUMENTS["PCL-5"].score(twenty, {"PCL5_CUTOFF": cutoff})
    assert score.total == sum(twenty)
    assert score.band is None
    assert score.as_dict() == reference_pcl5(twenty, cutoff)
