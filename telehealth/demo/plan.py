"""The demo clinic as data: who works there, who is treated there, and how each course goes.

Days count from the first day of the history (day 0, eight weeks before today, UTC); the
builder turns them into times. Nothing here is random: the builder's seeded generator only adds
the day-to-day noise of real answers around each course.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date

DAYS = 56
PASSWORD = "demo-password-123"
SEED = 20261119

ADMIN = ("admin@demo.example", "Ada Admin")


class Course(enum.StrEnum):
    """How a patient's symptoms move over the eight weeks."""

    RESPONDER = "responder"  # PHQ-9 halves within four weeks and keeps going down
    PARTIAL = "partial"  # improves, short of a 50% drop
    SLOW = "slow"  # flat for three weeks, then responds late
    DETERIORATES = "deteriorates"  # a short lift, then worse than at the start


@dataclass(frozen=True)
class DemoClinician:
    email: str
    name: str


@dataclass(frozen=True)
class DemoPatient:
    email: str
    name: str
    date_of_birth: date
    timezone: str
    clinician: int  # index into CLINICIANS: the clinician who creates the record and books
    course: Course
    phq9: int  # baseline PHQ-9 total
    gad7: int  # baseline GAD-7 total
    pcl5: int | None = None  # baseline PCL-5 total, for a patient screened for PTSD
    also_on_team: int | None = None  # a second clinician on the care team
    #: The day a questionnaire answers item 9 above 0 (a suicidal-ideation alert).
    item9_day: int | None = None
    #: Days on which the patient sends nothing (the last ones raise a missed-check-ins alert).
    silent_from: int | None = None
    no_show_session: int | None = None  # the session (by number) the patient misses
    #: By session number: a flagged blood pressure at +40 min, or a serious adverse event.
    flagged_bp_session: int | None = None
    adverse_event_session: int | None = None
    reminders: bool = True
    checkin_hour: int = 9  # local hour of the daily check-in and of the plan's items
    extra_notes: tuple[str, ...] = field(default_factory=tuple)


#: Clinicians, each with a care team of their own (the first keeps the long-standing login).
CLINICIANS = (
    DemoClinician("clinician@demo.example", "Dr. Casey Clinician"),
    DemoClinician("rowan.reyes@demo.example", "Dr. Rowan Reyes"),
    DemoClinician("morgan.okafor@demo.example", "Dr. Morgan Okafor"),
)

NY, CHI, DEN, LA = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"

PATIENTS = (
    # Dr. Casey Clinician's care team.
    DemoPatient(
        "patient@demo.example", "Pat Patient", date(1985, 4, 12), NY, 0,
        Course.RESPONDER, phq9=18, gad7=13,
    ),
    DemoPatient(
        "avery.brooks@demo.example", "Avery Brooks", date(1979, 9, 3), CHI, 0,
        Course.PARTIAL, phq9=21, gad7=16, item9_day=16,
    ),
    DemoPatient(
        "sam.whitaker@demo.example", "Sam Whitaker", date(1968, 1, 22), DEN, 0,
        Course.SLOW, phq9=17, gad7=11, flagged_bp_session=2,
    ),
    DemoPatient(
        "jordan.alvarez@demo.example", "Jordan Alvarez", date(1991, 6, 30), LA, 0,
        Course.RESPONDER, phq9=16, gad7=12, pcl5=46, adverse_event_session=3,
    ),
    # Dr. Rowan Reyes's care team.
    DemoPatient(
        "riley.chen@demo.example", "Riley Chen", date(1988, 11, 14), NY, 1,
        Course.DETERIORATES, phq9=14, gad7=10, silent_from=DAYS - 5, no_show_session=5,
        also_on_team=0,
    ),
    DemoPatient(
        "morgan.patel@demo.example", "Morgan Patel", date(1975, 3, 8), CHI, 1,
        Course.RESPONDER, phq9=15, gad7=14, checkin_hour=20, reminders=False,
    ),
    DemoPatient(
        "casey.nguyen@demo.example", "Casey Nguyen", date(1996, 8, 19), DEN, 1,
        Course.PARTIAL, phq9=19, gad7=12, pcl5=52,
    ),
    DemoPatient(
        "drew.thompson@demo.example", "Drew Thompson", date(1982, 12, 1), LA, 1,
        Course.RESPONDER, phq9=13, gad7=9,
    ),
    # Dr. Morgan Okafor's care team.
    DemoPatient(
        "quinn.foster@demo.example", "Quinn Foster", date(1970, 5, 27), NY, 2,
        Course.RESPONDER, phq9=20, gad7=15,
    ),
    DemoPatient(
        "taylor.kim@demo.example", "Taylor Kim", date(1993, 2, 11), CHI, 2,
        Course.PARTIAL, phq9=16, gad7=10, pcl5=38,
    ),
    DemoPatient(
        "jamie.oconnor@demo.example", "Jamie O'Connor", date(1987, 7, 4), DEN, 2,
        Course.RESPONDER, phq9=17, gad7=13,
    ),
    DemoPatient(
        "alex.romero@demo.example", "Alex Romero", date(1964, 10, 16), LA, 2,
        Course.SLOW, phq9=15, gad7=8,
    ),
)  # fmt: skip

#: Session days (from day 0): twice a week for three weeks, then every two weeks; one more is
#: booked for the coming week.
SESSION_DAYS = (3, 6, 10, 13, 17, 20, 31, 45)
UPCOMING_IN_DAYS = 4
SESSION_MINUTES = 150
#: UTC start of each session slot; a clinician's patients take one slot each, so no two of a
#: clinician's sessions overlap (the patients are listed slot by slot, east to west).
SLOT_HOURS = (14, 17, 20, 23)

#: Alerts raised in the last days are still open when the demo is built: the care team has not
#: got to them yet (older ones were acknowledged at a daily review).
OPEN_FOR_DAYS = 7

MONITORS = (
    ("Lee Brooks", "+1 555 0101"),
    ("Dana Whitaker", "+1 555 0102"),
    ("Chris Alvarez", "+1 555 0103"),
    ("Robin Chen", "+1 555 0104"),
    ("Jesse Patel", "+1 555 0105"),
    ("Kai Nguyen", "+1 555 0106"),
)

DAILY_NOTES = (
    "Walked for half an hour.",
    "Slept badly, woke at four.",
    "Good day at work.",
    "Saw friends in the evening.",
    "Tired after the session.",
    "Felt flat most of the day.",
    "Went to the integration group.",
    "Cooked dinner for the first time in weeks.",
)

ACKNOWLEDGE_NOTES = {
    "suicidal_ideation": "Called the patient within minutes: no plan or intent, safety plan "
    "reviewed with the monitor present, follow-up call booked for tomorrow.",
    "adverse_event": "Spoke with the patient and the monitor after discharge from the "
    "emergency department; recovered, next session to be reviewed with the prescriber.",
    "vital_sign": "Blood pressure came down on recheck; discussed at the next session.",
    "severe_score": "Reviewed the answers; discussed at the next session.",
    "deterioration": "Reviewed the trend; check-in call booked.",
    "missed_checkins": "Reached the patient by phone.",
    "checkpoint_overdue": "Checkpoint recorded late; patient well.",
}
