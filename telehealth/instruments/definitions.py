"""PHQ-9, GAD-7 and PCL-5 exactly as published; adding an instrument is adding one definition.

Scores are computed here, on the server, from the item answers. A client never sends a total.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

PHQ_GAD_OPTIONS = ("Not at all", "Several days", "More than half the days", "Nearly every day")
PCL5_OPTIONS = ("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely")
# The unscored difficulty question that closes both the PHQ-9 and the GAD-7.
DIFFICULTY_ITEM = (
    "If you checked off any problems, how difficult have these problems made it for you to do "
    "your work, take care of things at home, or get along with other people? (0 Not difficult "
    "at all, 1 Somewhat difficult, 2 Very difficult, 3 Extremely difficult; not scored)"
)


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    label: str


@dataclass(frozen=True)
class Score:
    total: int
    band: str | None = None
    #: Results beyond total and band (PCL-5's screen and DSM-5 rule).
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"total": self.total}
        if self.band is not None:
            result["band"] = self.band
        return {**result, **self.extra}


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    version: str
    citation: str
    recall: str
    stem: str
    items: tuple[str, ...]
    options: tuple[str, ...]
    bands: tuple[Band, ...] = ()
    #: Items a respondent may add that are never scored (PHQ-9's difficulty question).
    optional_items: tuple[str, ...] = ()
    #: Extra results from the answers and the settings (e.g. the PCL-5 cut-off).
    extras: Callable[[Sequence[int], dict[str, Any]], dict[str, Any]] | None = None
    #: Totals below this count as remission (measurement-based care); None: not defined.
    remission_below: int | None = None

    @property
    def item_min(self) -> int:
        return 0

    @property
    def item_max(self) -> int:
        return len(self.options) - 1

    @property
    def total_max(self) -> int:
        return self.item_max * len(self.items)

    def band_for(self, total: int) -> str | None:
        return next((b.label for b in self.bands if b.low <= total <= b.high), None)

    def score(self, answers: Sequence[int], settings: dict[str, Any]) -> Score:
        """Score complete, in-range answers (the schema has refused anything else)."""
        scored = answers[: len(self.items)]
        total = sum(scored)
        extra = self.extras(scored, settings) if self.extras else {}
        return Score(total=total, band=self.band_for(total), extra=extra)


def _pcl5_results(answers: Sequence[int], settings: dict[str, Any]) -> dict[str, Any]:
    """The screen (total at or above the cut-off) and the DSM-5 provisional-diagnosis rule:
    an item rated 2 or more is endorsed; it takes 1 B (items 1-5), 1 C (6-7), 2 D (8-14) and
    2 E (15-20) items."""
    endorsed = [answer >= 2 for answer in answers]
    clusters = {"B": (0, 5, 1), "C": (5, 7, 1), "D": (7, 14, 2), "E": (14, 20, 2)}
    provisional = all(sum(endorsed[start:end]) >= need for start, end, need in clusters.values())
    return {
        "probable_ptsd": sum(answers) >= settings["PCL5_CUTOFF"],
        "provisional_ptsd": provisional,
    }


PHQ9 = Instrument(
    code="PHQ-9",
    name="Patient Health Questionnaire-9",
    version="1.0",
    citation="Kroenke K, Spitzer RL, Williams JB. J Gen Intern Med. 2001;16(9):606-613.",
    recall="2 weeks",
    stem="Over the last 2 weeks, how often have you been bothered by any of the following "
    "problems?",
    items=(
        "Little interest or pleasure in doing things",
        "Feeling down, depressed, or hopeless",
        "Trouble falling or staying asleep, or sleeping too much",
        "Feeling tired or having little energy",
        "Poor appetite or overeating",
        "Feeling bad about yourself - or that you are a failure or have let yourself or your "
        "family down",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "Moving or speaking so slowly that other people could have noticed? Or the opposite - "
        "being so fidgety or restless that you have been moving around a lot more than usual",
        "Thoughts that you would be better off dead or of hurting yourself in some way",
    ),
    options=PHQ_GAD_OPTIONS,
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 19, "moderately severe"),
        Band(20, 27, "severe"),
    ),
    optional_items=(DIFFICULTY_ITEM,),
    remission_below=5,
)

GAD7 = Instrument(
    code="GAD-7",
    name="Generalized Anxiety Disorder-7",
    version="1.0",
    citation="Spitzer RL, Kroenke K, Williams JB, Lowe B. Arch Intern Med. 2006;166:1092-1097.",
    recall="2 weeks",
    stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
    items=(
        "Feeling nervous, anxious, or on edge",
        "Not being able to stop or control worrying",
        "Worrying too much about different things",
        "Trouble relaxing",
        "Being so restless that it is hard to sit still",
        "Becoming easily annoyed or irritable",
        "Feeling afraid, as if something awful might happen",
    ),
    options=PHQ_GAD_OPTIONS,
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 21, "severe"),
    ),
    optional_items=(DIFFICULTY_ITEM,),
    remission_below=5,
)

PCL5 = Instrument(
    code="PCL-5",
    name="PTSD Checklist for DSM-5",
    version="1.0",
    citation="Weathers FW, Litz BT, Keane TM, et al. National Center for PTSD, 2013.",
    recall="1 month",
    stem="In the past month, how much were you bothered by:",
    items=(
        "Repeated, disturbing, and unwanted memories of the stressful experience?",
        "Repeated, disturbing dreams of the stressful experience?",
        "Suddenly feeling or acting as if the stressful experience were actually happening "
        "again (as if you were actually back there reliving it)?",
        "Feeling very upset when something reminded you of the stressful experience?",
        "Having strong physical reactions when something reminded you of the stressful "
        "experience (for example, heart pounding, trouble breathing, sweating)?",
        "Avoiding memories, thoughts, or feelings related to the stressful experience?",
        "Avoiding external reminders of the stressful experience (for example, people, places, "
        "conversations, activities, objects, or situations)?",
        "Trouble remembering important parts of the stressful experience?",
        "Having strong negative beliefs about yourself, other people, or the world (for "
        "example, having thoughts such as: I am bad, there is something seriously wrong with "
        "me, no one can be trusted, the world is completely dangerous)?",
        "Blaming yourself or someone else for the stressful experience or what happened after it?",
        "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
        "Loss of interest in activities that you used to enjoy?",
        "Feeling distant or cut off from other people?",
        "Trouble experiencing positive feelings (for example, being unable to feel happiness "
        "or have loving feelings for people close to you)?",
        "Irritable behavior, angry outbursts, or acting aggressively?",
        "Taking too many risks or doing things that could cause you harm?",
        'Being "superalert" or watchful or on guard?',
        "Feeling jumpy or easily startled?",
        "Having difficulty concentrating?",
        "Trouble falling or staying asleep?",
    ),
    options=PCL5_OPTIONS,
    extras=_pcl5_results,
)

INSTRUMENTS: dict[str, Instrument] = {i.code: i for i in (PHQ9, GAD7, PCL5)}

#: PHQ-9 item 9 (index 8): any answer above 0 needs clinician follow-up, whatever the total.
PHQ9_SELF_HARM_ITEM = 8
