"""Bulk seeder for the PostgreSQL benchmark: `python -m bench.seed --scale 10k|1m [--force]`.

Design
------
* One database per scale (`telehealth_bench_10k`, `telehealth_bench_1m`), created afresh and
  given its schema by the project's own Alembic migrations (`flask db upgrade` in a subprocess),
  so the benchmark runs on exactly the schema production has.
* Rows never go through the ORM: each table is one `COPY ... FROM STDIN` fed with pre-formatted
  text lines. Foreign keys and secondary indexes are read back from the catalog, dropped for the
  load and rebuilt after it (one bulk build per index and one validating join per foreign key
  beat millions of row-by-row checks), so what stands afterwards is what the migrations made.
  Each table is truncated and loaded `FREEZE` in one transaction, and the four big tables
  (check-ins, scores, alerts, audit events) stream at once over four connections while Python
  generates them, so PostgreSQL works on the second core. `VACUUM (ANALYZE)` closes the load,
  so autovacuum has nothing left to do during a benchmark run.
* Deterministic: ids are UUIDv8 (a per-table tag and a counter), randomness comes from one seeded
  `random.Random`, and times are whole days back from today's midnight UTC (one check-in a day
  per patient, from yesterday backwards; sessions in the afternoon, after that day's check-in).
* Clinically consistent with the app: scores come from the project's instrument definitions (a
  few hundred precomputed answer sets); alerts are exactly those `checkins.service` raises for
  the answers (PHQ-9 item 9, severe totals, a rise of 5 over the baseline). Every patient's
  first check-in is their baseline (their first session is that day, after it, or earlier) and
  later totals stay within baseline + 4 except on rare injected bad days, so deterioration
  alerts are known without replaying the app. Sessions never overlap for a clinician or a
  patient. The audit trail is one `checkin.create` event per check-in, hash-chained by
  `telehealth.audit.chain.digest` itself, so `flask audit verify` passes.
* The busy clinician's list pages are as full at 10k as at 1M (the benchmark compares their
  p50s): every patient of their care team (51) answers PHQ-9 item 9 above 0 on two fixed
  recent days (`BUSY_TEAM_SELF_HARM_DAYS`: one suicidal-ideation alert each, 102 in all), and
  that team's alerts older than `OPEN_ALERT_DAYS` are all acknowledged (other teams leave one
  in ten open), so the team's open alerts are those 102 plus the last 30 days' chance ones:
  100-150 at both scales. The team has some 300 sessions at 10k. The manifest records both
  (`busy_clinician_lists`).
* Users share one password, hashed once with the project's argon2 hasher.
* A manifest (ids, emails, counts, load time) is written last, into `bench_manifest` in the
  database and to `bench/out/seed-<scale>.json`; a database holding one is complete and is
  reused unless `--force`. Seeders of one database take turns (an advisory lock), so a second
  one waits and then reuses the first one's work instead of dropping it halfway.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, cast
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from tqdm import tqdm

from config import load_config
from telehealth import create_app
from telehealth.accounts.passwords import hash_password
from telehealth.alerts.models import AlertKind
from telehealth.audit import chain
from telehealth.audit.models import AuditEvent, Outcome
from telehealth.checkins.outcomes import DETERIORATION_POINTS
from telehealth.instruments.definitions import GAD7, PHQ9, PHQ9_SELF_HARM_ITEM, Instrument

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SCALES = {"10k": 10_000, "1m": 1_000_000}
SEED = 20_261_121
PASSWORD = "bench-password-123"
EMAIL_DOMAIN = "bench.example"

PATIENTS = 1_000
CLINICIANS = 20
BUSY_CHECKINS = 1_000  # busy_patient: PHQ-9 and GAD-7 on every check-in
EXPORT_CHECKINS = 1_100  # export_patient: the longest record
GAD_EVERY = 7  # every 7th check-in of an ordinary patient also has a GAD-7
CHECKINS_PER_SESSION = 10
MANIFEST_PATIENT_IDS = 100
LOCK_CLASS = 7_311_020  # pg_advisory_lock(LOCK_CLASS, crc32(database name)): "seeding"

# Check-ins are recorded 09:00-11:59 UTC; sessions start on the even hours from 12:00 UTC.
CHECKIN_START_SECONDS = 9 * 3600
CHECKIN_WINDOW_SECONDS = 3 * 3600
SESSION_SLOTS = 6
SESSION_MINUTES = 120
OPEN_ALERT_DAYS = 30  # alerts younger than this are still open; older ones mostly acknowledged
BUSY_CLINICIAN = 0  # clinician-000: patients 0 and 1 and every 20th are on their care team
# Days back from the anchor (1: yesterday) on which every patient of the busy clinician's team
# answers PHQ-9 item 9 above 0, so their open-alert page is full at 10k as at 1M.
BUSY_TEAM_SELF_HARM_DAYS = (1, 4)

# The thresholds of `checkins.service._raise_alerts` (not importable: literals there).
SEVERE_AT = {PHQ9.code: 20, GAD7.code: 15}
# Normal days stay below the severe thresholds and within baseline + 4 (no deterioration).
NORMAL_CAP = {PHQ9.code: 19, GAD7.code: 14}
IMPROVEMENT = 0.55  # share of the baseline total gone by a patient's last check-in
BAD_DAY_RATE = 0.004  # a sudden rise of 5-7 points: a deterioration alert, often a severe one
SELF_HARM_RATE = 0.005  # PHQ-9 item 9 answered above 0: a suicidal-ideation alert

CHUNK_LINES = 5_000
NULL = "\\N"
TIMEZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
FIRST_NAMES = (
    "Avery", "Blake", "Casey", "Dana", "Emery", "Finley", "Gray", "Harper", "Indy", "Jordan",
    "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Riley", "Sage", "Taylor",
)  # fmt: skip
LAST_NAMES = (
    "Abbott", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen",
    "Khan", "Lopez", "Meyer", "Nguyen", "Okafor", "Patel", "Quist", "Rossi", "Silva", "Tanaka",
    "Usman", "Varga", "Weber", "Xu", "Young",
)  # fmt: skip
SLEEP_HOURS = ("5.5", "6.0", "6.5", "7.0", "7.0", "7.5", "7.5", "8.0", "8.5", "9.0")
CHECKIN_NOTES = ("Slept badly.", "Good walk today.", "Felt calmer after the session.", "Tired.")
NOTE_TEXTS = (
    "+40 min: alert and oriented, vitals in range, monitor present.",
    "+40 min: mild dissociation, resolving; vitals in range.",
    "+40 min: comfortable, mild nausea settled; vitals in range.",
)


# -- ids ----------------------------------------------------------------------------------------

TAG_USER, TAG_CHECKIN, TAG_SCORE, TAG_SESSION, TAG_TRANSITION, TAG_NOTE = range(1, 7)
TAG_ALERT, TAG_AUDIT = 7, 8
#: The bench's audit chain key: the seeder links its events with it, and every app the bench
#: starts on a seeded database runs with it (AUDIT_KEY), so their events link on.
AUDIT_KEY = "bench-audit-key-not-a-secret-0123456789abcdef"


def make_id(tag: int, number: int) -> str:
    """A UUIDv8 (version nibble 8, RFC variant): a table tag and a counter, so reproducible
    and in insertion order within a table."""
    return f"be7c{tag:04x}-0000-8000-8000-{number:012x}"


def user_id(number: int) -> str:
    return make_id(TAG_USER, number)


def admin_id() -> str:
    return user_id(0)


def clinician_id(index: int) -> str:
    return user_id(1 + index)


def patient_id(index: int) -> str:
    return user_id(10_000 + index)


def clinician_email(index: int) -> str:
    return f"clinician-{index:03d}@{EMAIL_DOMAIN}"


def patient_email(index: int) -> str:
    return f"patient-{index:04d}@{EMAIL_DOMAIN}"


# -- tables -------------------------------------------------------------------------------------


class Table(NamedTuple):
    name: str
    columns: tuple[str, ...]

    def copy_statement(self) -> sql.Composed:
        return sql.SQL("COPY {} ({}) FROM STDIN (FREEZE)").format(
            sql.Identifier(self.name), sql.SQL(", ").join(map(sql.Identifier, self.columns))
        )


USERS = Table(
    "users",
    (
        "id", "email", "name", "role", "password_hash", "is_active", "deactivated_at",
        "created_at", "updated_at",
    ),
)  # fmt: skip
PATIENTS_TABLE = Table(
    "patients",
    (
        "id", "date_of_birth", "timezone", "emergency_contact_name", "emergency_contact_phone",
        "created_by_id", "version", "created_at", "updated_at",
    ),
)  # fmt: skip
CARE_TEAM = Table("care_team_members", ("patient_id", "clinician_id", "added_at", "added_by_id"))
SESSIONS = Table(
    "treatment_sessions",
    (
        "id", "patient_id", "clinician_id", "scheduled_start", "scheduled_end",
        "duration_minutes", "modality", "treatment_monitor_name", "treatment_monitor_phone",
        "notes", "status", "medication_taken_at", "medication_recorded_by_id", "version",
        "created_at", "updated_at",
    ),
)  # fmt: skip
TRANSITIONS = Table(
    "session_transitions",
    ("id", "session_id", "from_status", "to_status", "actor_id", "occurred_at", "reason"),
)
NOTES = Table(
    "monitoring_notes",
    (
        "id", "session_id", "patient_id", "author_id", "checkpoint", "observed_at", "systolic",
        "diastolic", "heart_rate", "spo2", "respiratory_rate", "temperature", "sedation",
        "dissociation", "side_effects", "text", "created_at", "signed_at",
    ),
)  # fmt: skip
CHECKINS = Table(
    "mood_checkins",
    (
        "id", "patient_id", "session_id", "recorded_at", "received_at", "updated_at", "mood",
        "anxiety", "sleep_hours", "note", "context",
    ),
)  # fmt: skip
SCORES = Table(
    "instrument_scores",
    (
        "id", "checkin_id", "patient_id", "instrument", "version", "recorded_at", "answers",
        "total", "band", "extra",
    ),
)  # fmt: skip
ALERTS = Table(
    "safety_alerts",
    (
        "id", "patient_id", "kind", "priority", "status", "source_type", "source_id", "reason",
        "created_at", "updated_at", "acknowledged_by_id", "acknowledged_at", "note",
        "occurrence", "escalation_level",
    ),
)  # fmt: skip
AUDIT = Table(
    "audit_events",
    (
        "id", "occurred_at", "actor_id", "actor_role", "action", "resource_type",
        "resource_id", "patient_id", "outcome", "status_code", "client_address", "request_id",
        "sequence", "prev_hash", "hash",
    ),
)  # fmt: skip


def line(*values: object) -> str:
    """One COPY text-format line; None is NULL. Values never hold tabs, newlines or
    backslashes (all generated here), so nothing needs escaping."""
    return "\t".join(NULL if value is None else str(value) for value in values) + "\n"


def ts(value: datetime) -> str:
    return value.isoformat()


# -- the plan: people, care teams, answer sets, sessions -----------------------------------------


@dataclass(slots=True)
class PatientPlan:
    index: int
    id: str
    clinicians: tuple[int, ...]  # care team; the first is the one who books the sessions
    checkins: int
    phq_start: int
    gad_start: int
    gad_every: int
    timezone: str
    address: str

    @property
    def clinician_id(self) -> str:
        return clinician_id(self.clinicians[0])

    @property
    def on_busy_team(self) -> bool:
        return BUSY_CLINICIAN in self.clinicians


@dataclass(frozen=True, slots=True)
class Answers:
    """One precomputed answer set, scored by the project's instrument definition."""

    instrument: Instrument
    items: tuple[int, ...]
    total: int
    band: str | None
    row_tail: str  # answers, total, band, extra: the end of an instrument_scores line


@dataclass(slots=True)
class AnswerPools:
    phq: dict[int, list[Answers]]  # by total, item 9 answered 0
    phq_self_harm: dict[int, list[Answers]]  # by total, item 9 answered above 0
    gad: dict[int, list[Answers]]


@dataclass(frozen=True, slots=True)
class SessionPlan:
    patient: PatientPlan
    start: datetime
    status: str
    modality: str


@dataclass(slots=True)
class Plan:
    anchor: datetime  # today 00:00 UTC; check-ins end yesterday
    password_hash: str
    patients: list[PatientPlan]
    pools: AnswerPools
    sessions: list[SessionPlan] = field(default_factory=list)

    @property
    def created_at(self) -> datetime:
        longest = max(patient.checkins for patient in self.patients)
        return self.anchor - timedelta(days=longest + 60)


def checkin_counts(total: int) -> list[int]:
    """Check-ins per patient: the two special patients fixed, the rest spread evenly."""
    rest = total - BUSY_CHECKINS - EXPORT_CHECKINS
    ordinary = PATIENTS - 2
    if rest < ordinary:
        raise ValueError(f"{total} check-ins leave fewer than one per ordinary patient")
    base, extra = divmod(rest, ordinary)
    return [BUSY_CHECKINS, EXPORT_CHECKINS] + [base + (i < extra) for i in range(ordinary)]


def care_team(index: int) -> tuple[int, ...]:
    """Patients 0 and 1 (busy, export) and every 20th belong to clinician 0, the busy one;
    every other patient has a second clinician."""
    primary = BUSY_CLINICIAN if index < 2 else index % CLINICIANS
    if index >= 2 and index % 2 == 0:
        return (primary, (primary + 7) % CLINICIANS)
    return (primary,)


def plan_patients(total: int, rng: random.Random) -> list[PatientPlan]:
    return [
        PatientPlan(
            index=index,
            id=patient_id(index),
            clinicians=care_team(index),
            checkins=count,
            phq_start=rng.randint(6, 17),
            gad_start=rng.randint(5, 13),
            gad_every=1 if index == 0 else GAD_EVERY,
            timezone=TIMEZONES[index % len(TIMEZONES)],
            address=f"198.51.100.{index % 250 + 1}",
        )
        for index, count in enumerate(checkin_counts(total))
    ]


def answer_sets(
    instrument: Instrument, total: int, rng: random.Random, last: int | None = None
) -> list[Answers]:
    """Up to 16 distinct answer sets with `total`; `last` fixes the final item's answer."""
    items = len(instrument.items)
    free = items if last is None else items - 1
    target = total if last is None else total - (last or 0)
    found: set[tuple[int, ...]] = set()
    for _ in range(200):
        answers = [0] * free
        while sum(answers) < target:
            position = rng.randrange(free)
            if answers[position] < instrument.item_max:
                answers[position] += 1
        found.add(tuple(answers) + (() if last is None else (last,)))
        if len(found) == 16:
            break
    return [scored(instrument, answers) for answers in sorted(found)]


def scored(instrument: Instrument, items: tuple[int, ...]) -> Answers:
    score = instrument.score(items, {})
    tail = line(json.dumps(list(items)), score.total, score.band, json.dumps(score.extra))
    return Answers(instrument, items, score.total, score.band, tail)


def plan_answer_pools(rng: random.Random) -> AnswerPools:
    scored_items = PHQ9.item_max * (len(PHQ9.items) - 1)
    self_harm: dict[int, list[Answers]] = {}
    for total in range(1, PHQ9.total_max + 1):
        sets = [
            answers
            for item9 in (1, 2, 3)
            if 0 <= total - item9 <= scored_items
            for answers in answer_sets(PHQ9, total, rng, last=item9)
        ]
        self_harm[total] = sets
    return AnswerPools(
        phq={t: answer_sets(PHQ9, t, rng, last=0) for t in range(scored_items + 1)},
        phq_self_harm=self_harm,
        gad={t: answer_sets(GAD7, t, rng) for t in range(GAD7.total_max + 1)},
    )


class Booking:
    """Free afternoon slots: one session per clinician per slot, one per patient per day."""

    def __init__(self) -> None:
        self._clinician_slots: set[tuple[int, int, int]] = set()
        self._patient_days: set[tuple[int, int]] = set()

    def book(self, patient: PatientPlan, day: int, step: int) -> tuple[int, int]:
        """The first free (day, slot) from `day`, moving `step` days at a time."""
        clinician = patient.clinicians[0]
        while True:
            if (patient.index, day) not in self._patient_days:
                for slot in range(SESSION_SLOTS):
                    if (clinician, day, slot) not in self._clinician_slots:
                        self._clinician_slots.add((clinician, day, slot))
                        self._patient_days.add((patient.index, day))
                        return day, slot
            day += step


def past_session_days(patient: PatientPlan, sessions: int) -> list[int]:
    """Days (negative: before the anchor) for a patient's past sessions: the first on the day
    of their first check-in, the rest evenly through their history, phase-shifted per patient
    so a clinician's patients do not all want the same days."""
    if sessions == 0:
        return []
    step = max(patient.checkins // sessions, 1)
    phase = patient.index % step
    days = [-patient.checkins]
    days += [min(-patient.checkins + j * step + phase, -1) for j in range(1, sessions)]
    return days


def plan_sessions(anchor: datetime, patients: list[PatientPlan]) -> list[SessionPlan]:
    """One past session per 10 check-ins (the first always completed, about one in 16 of the
    rest a no-show), plus an upcoming one for every 10th patient and the special two."""
    booking, plans = Booking(), []
    running, past = 0, 0
    for patient in patients:
        before = running // CHECKINS_PER_SESSION
        running += patient.checkins
        days = past_session_days(patient, running // CHECKINS_PER_SESSION - before)
        for position, wanted in enumerate(days):
            day, slot = booking.book(patient, wanted, step=-1)
            past += 1
            status = "no_show" if position and past % 16 == 0 else "completed"
            plans.append(session_plan(anchor, patient, day, slot, status))
        if patient.index < 2 or patient.index % 10 == 0:
            day, slot = booking.book(patient, 1 + (patient.index // 10) % 28, step=1)
            plans.append(session_plan(anchor, patient, day, slot, "scheduled"))
    plans.sort(key=lambda s: (s.start, s.patient.index))
    return plans


def session_plan(
    anchor: datetime, patient: PatientPlan, day: int, slot: int, status: str
) -> SessionPlan:
    start = anchor + timedelta(days=day, hours=12 + 2 * slot)
    modality = "phone" if (patient.index + day) % 5 == 0 else "video"
    return SessionPlan(patient, start, status, modality)


# -- the small tables ----------------------------------------------------------------------------


def user_rows(plan: Plan) -> Iterator[str]:
    created = ts(plan.created_at)
    pw = plan.password_hash
    yield line(admin_id(), f"admin@{EMAIL_DOMAIN}", "Bench Admin", "admin", pw, "t", None,
               created, created)  # fmt: skip
    for index in range(CLINICIANS):
        name = f"Dr. {FIRST_NAMES[index]} {LAST_NAMES[index]}"
        yield line(clinician_id(index), clinician_email(index), name, "clinician", pw, "t", None,
                   created, created)  # fmt: skip
    for patient in plan.patients:
        yield line(patient.id, patient_email(patient.index), patient_name(patient.index),
                   "patient", pw, "t", None, created, created)  # fmt: skip


def patient_name(index: int) -> str:
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[(index // len(FIRST_NAMES)) % len(LAST_NAMES)]
    return f"{first} {last} {index:04d}"


def patient_rows(plan: Plan) -> Iterator[str]:
    created = ts(plan.created_at)
    for p in plan.patients:
        born = date(1950 + p.index % 50, 1 + p.index % 12, 1 + p.index % 28)
        contact = f"{LAST_NAMES[p.index % len(LAST_NAMES)]} Family Contact"
        phone = f"+1 555 01{p.index % 100:02d}"
        yield line(p.id, born, p.timezone, contact, phone, p.clinician_id, 1, created, created)


def care_team_rows(plan: Plan) -> Iterator[str]:
    added = ts(plan.created_at)
    for p in plan.patients:
        for index in p.clinicians:
            yield line(p.id, clinician_id(index), added, p.clinician_id)


def session_rows(plan: Plan) -> Iterator[str]:
    for number, s in enumerate(plan.sessions):
        end = s.start + timedelta(minutes=SESSION_MINUTES)
        created = s.start - timedelta(days=14)
        taken, version, updated = None, 1, created
        if s.status == "completed":
            taken, version, updated = s.start + timedelta(minutes=10), 4, end
        elif s.status == "no_show":
            version, updated = 2, s.start + timedelta(minutes=30)
        monitor = f"Monitor {s.patient.index:04d}"
        phone = f"+1 555 02{s.patient.index % 100:02d}"
        yield line(
            make_id(TAG_SESSION, number), s.patient.id, s.patient.clinician_id, ts(s.start),
            ts(end), SESSION_MINUTES, s.modality, monitor, phone, None, s.status,
            None if taken is None else ts(taken), None if taken is None else s.patient.clinician_id,
            version, ts(created), ts(updated),
        )  # fmt: skip


def transition_rows(plan: Plan) -> Iterator[str]:
    numbers = itertools.count()
    for number, s in enumerate(plan.sessions):
        session, actor = make_id(TAG_SESSION, number), s.patient.clinician_id
        if s.status == "completed":
            end = s.start + timedelta(minutes=SESSION_MINUTES)
            for source, target, when in (
                ("scheduled", "in_progress", s.start),
                ("in_progress", "completed", end),
            ):
                yield line(make_id(TAG_TRANSITION, next(numbers)), session, source, target,
                           actor, ts(when), None)  # fmt: skip
        elif s.status == "no_show":
            when = ts(s.start + timedelta(minutes=30))
            yield line(make_id(TAG_TRANSITION, next(numbers)), session, "scheduled", "no_show",
                       actor, when, "Patient did not join.")  # fmt: skip


def note_rows(plan: Plan, rng: random.Random) -> Iterator[str]:
    """One +40 minute note per completed session, vitals inside the ranges and the review
    flags (no vital-sign alert would have been raised)."""
    for number, s in enumerate(plan.sessions):
        if s.status != "completed":
            continue
        observed = s.start + timedelta(minutes=50)  # medication at +10, checkpoint 40 min later
        signed = ts(observed + timedelta(minutes=3))
        side_effects = '["nausea"]' if number % 6 == 0 else "[]"
        yield line(
            make_id(TAG_NOTE, number), make_id(TAG_SESSION, number), s.patient.id,
            s.patient.clinician_id, "plus_40_min", ts(observed), rng.randint(110, 138),
            rng.randint(68, 88), rng.randint(60, 96), rng.randint(95, 99), rng.randint(12, 18),
            f"{rng.randint(364, 372) / 10:.1f}", rng.randint(3, 5),
            "mild" if number % 3 == 0 else "none", side_effects, NOTE_TEXTS[number % 3],
            signed, signed,
        )  # fmt: skip


# -- the stream: check-ins with their scores, alerts and audit events ---------------------------


class Draft(NamedTuple):
    patient: PatientPlan
    recorded: datetime
    received: datetime
    phq: Answers
    gad: Answers | None
    mood: int
    anxiety: int
    sleep: str
    note: str | None


def clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def draft_totals(p: PatientPlan, k: int, rng: random.Random) -> tuple[int, int, bool]:
    """PHQ-9 and GAD-7 totals of check-in `k` (0: the baseline) and whether item 9 is
    answered: an improving trend with noise, capped at baseline + 4, bar rare bad days. Item 9
    is answered at random, and always on the busy team's `BUSY_TEAM_SELF_HARM_DAYS`."""
    self_harm_day = p.on_busy_team and p.checkins - k in BUSY_TEAM_SELF_HARM_DAYS
    if k == 0:
        return p.phq_start, p.gad_start, self_harm_day
    progress = 1 - IMPROVEMENT * k / max(p.checkins - 1, 1)
    if rng.random() < BAD_DAY_RATE:
        bump = DETERIORATION_POINTS + rng.randint(0, 2)
        phq, gad = min(p.phq_start + bump, 24), min(p.gad_start + bump, GAD7.total_max)
        return phq, gad, self_harm_day
    phq_cap = min(NORMAL_CAP[PHQ9.code], p.phq_start + DETERIORATION_POINTS - 1)
    gad_cap = min(NORMAL_CAP[GAD7.code], p.gad_start + DETERIORATION_POINTS - 1)
    phq = clamp(p.phq_start * progress + rng.randint(-2, 2), 0, phq_cap)
    gad = clamp(p.gad_start * progress + rng.randint(-2, 2), 0, gad_cap)
    return phq, gad, rng.random() < SELF_HARM_RATE or self_harm_day


def draft_checkin(
    p: PatientPlan, day: datetime, k: int, pools: AnswerPools, rng: random.Random
) -> Draft:
    recorded = day + timedelta(
        seconds=CHECKIN_START_SECONDS + rng.randrange(CHECKIN_WINDOW_SECONDS)
    )
    received = recorded + timedelta(milliseconds=rng.randrange(300, 90_000))
    phq_total, gad_total, self_harm = draft_totals(p, k, rng)
    pool = pools.phq_self_harm[max(phq_total, 1)] if self_harm else pools.phq[phq_total]
    phq = pool[rng.randrange(len(pool))]
    gad = None
    if k % p.gad_every == 0:
        gad = pools.gad[gad_total][rng.randrange(len(pools.gad[gad_total]))]
    mood = clamp(10 - phq.total / 2.7 + rng.randint(-1, 1), 0, 10)
    anxiety = clamp(gad_total / 2 + rng.randint(-1, 1), 0, 10)
    sleep = SLEEP_HOURS[rng.randrange(len(SLEEP_HOURS))]
    note = CHECKIN_NOTES[k % len(CHECKIN_NOTES)] if k % 50 == 49 else None
    return Draft(p, recorded, received, phq, gad, mood, anxiety, sleep, note)


def daily_drafts(plan: Plan, rng: random.Random) -> Iterator[list[Draft]]:
    """Day by day from the oldest, every patient with a check-in that day, in arrival order,
    so ids and the audit sequence follow time as they would in production."""
    patients = sorted(plan.patients, key=lambda p: -p.checkins)
    negated = [-p.checkins for p in patients]
    for days_ago in range(patients[0].checkins, 0, -1):
        day = plan.anchor - timedelta(days=days_ago)
        active = patients[: bisect.bisect_right(negated, -days_ago)]
        drafts = [draft_checkin(p, day, p.checkins - days_ago, plan.pools, rng) for p in active]
        drafts.sort(key=lambda d: d.received)
        yield drafts


@dataclass(slots=True)
class ChainEvent:
    """The fields `chain.digest` reads, without an ORM instance per row."""

    sequence: int
    id: str
    occurred_at: datetime
    actor_id: str | None
    actor_role: str | None
    action: str
    resource_type: str
    resource_id: str | None
    patient_id: str | None
    outcome: Outcome
    status_code: int
    client_address: str | None
    request_id: str | None


Add = Callable[[str], None]


class StreamWriter:
    """Turns drafts into lines for the four streamed tables, keeping the counters and the
    audit chain's last hash."""

    def __init__(self, anchor: datetime, sinks: dict[str, Add]) -> None:
        self.anchor = anchor
        self.sinks = sinks
        self.checkins = 0
        self.scores = 0
        self.alerts = 0
        self.prev_hash = chain.GENESIS

    def write(self, d: Draft) -> None:
        self.checkins += 1
        checkin_id = make_id(TAG_CHECKIN, self.checkins)
        pid, recorded, received = d.patient.id, ts(d.recorded), ts(d.received)
        row = line(checkin_id, pid, None, recorded, received, received, d.mood, d.anxiety,
                   d.sleep, d.note, "daily")  # fmt: skip
        self.sinks[CHECKINS.name](row)
        for answers in (d.phq, d.gad):
            if answers is not None:
                self.scores += 1
                head = f"{make_id(TAG_SCORE, self.scores)}\t{checkin_id}\t{pid}\t"
                instrument = f"{answers.instrument.code}\t{answers.instrument.version}\t"
                self.sinks[SCORES.name](f"{head}{instrument}{recorded}\t{answers.row_tail}")
        for kind, reason in alerts_for(d):
            self.write_alert(d, checkin_id, kind, reason)
        self.write_audit(d, checkin_id)

    def write_alert(self, d: Draft, checkin_id: str, kind: AlertKind, reason: str) -> None:
        self.alerts += 1
        created = d.received + timedelta(milliseconds=5)
        status, by, at, note = "open", None, None, None
        old = d.received < self.anchor - timedelta(days=OPEN_ALERT_DAYS)
        if old and (self.alerts % 10 or d.patient.on_busy_team):  # the busy team: all
            status, by = "acknowledged", d.patient.clinician_id
            at = ts(created + timedelta(hours=1 + self.alerts % 20))
            note = "Called the patient; safety plan reviewed."
        row = line(make_id(TAG_ALERT, self.alerts), d.patient.id, kind.value, kind.priority,
                   status, "checkin", checkin_id, reason[:500], ts(created), at or ts(created),
                   by, at, note, "", 0)  # fmt: skip
        self.sinks[ALERTS.name](row)

    def write_audit(self, d: Draft, checkin_id: str) -> None:
        event = ChainEvent(
            sequence=self.checkins,
            id=make_id(TAG_AUDIT, self.checkins),
            occurred_at=d.received + timedelta(milliseconds=20),
            actor_id=d.patient.id,
            actor_role="patient",
            action="checkin.create",
            resource_type="checkin",
            resource_id=checkin_id,
            patient_id=d.patient.id,
            outcome=Outcome.SUCCESS,
            status_code=201,
            client_address=d.patient.address,
            request_id=f"be7c{self.checkins:028x}",
        )
        digest = chain.digest(self.prev_hash, cast(AuditEvent, event), AUDIT_KEY)
        row = line(event.id, ts(event.occurred_at), event.actor_id, event.actor_role,
                   event.action, event.resource_type, event.resource_id, event.patient_id,
                   event.outcome.value, event.status_code, event.client_address,
                   event.request_id, event.sequence, self.prev_hash, digest)  # fmt: skip
        self.sinks[AUDIT.name](row)
        self.prev_hash = digest


def alerts_for(d: Draft) -> list[tuple[AlertKind, str]]:
    """What `checkins.service._raise_alerts` raises for this check-in, with its wording. The
    baseline is the patient's first check-in (see the module docstring)."""
    found: list[tuple[AlertKind, str]] = []
    item9 = d.phq.items[PHQ9_SELF_HARM_ITEM]
    if item9 > 0:
        found.append(
            (
                AlertKind.SUICIDAL_IDEATION,
                "PHQ-9 item 9 (thoughts of being better off dead or of self-harm) answered "
                f"{item9}: clinician follow-up needed.",
            )
        )
    scores = [a for a in (d.phq, d.gad) if a is not None]
    severe = [
        f"{a.instrument.code} {a.total}" for a in scores if a.total >= SEVERE_AT[a.instrument.code]
    ]
    if severe:
        found.append((AlertKind.SEVERE_SCORE, "Review a severe score: " + ", ".join(severe)))
    baselines = {PHQ9.code: d.patient.phq_start, GAD7.code: d.patient.gad_start}
    worse = [
        f"{a.instrument.code} rose from {baselines[a.instrument.code]} (baseline) to {a.total}"
        for a in scores
        if a.total - baselines[a.instrument.code] >= DETERIORATION_POINTS
    ]
    if worse:
        found.append((AlertKind.DETERIORATION, "Review a deterioration: " + "; ".join(worse)))
    return found


# -- database work -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableStat:
    table: str
    rows: int
    seconds: float


def database_name(scale: str) -> str:
    return f"telehealth_bench_{scale}"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def app_url(url: str) -> str:
    """The form the app's settings expect (`postgresql+psycopg://`)."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in ("postgres", "postgresql") else url


def existing_manifest(url: str, scale: str) -> dict[str, Any] | None:
    """The manifest of a completely seeded database at `url`, if there is one."""
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT body FROM bench_manifest").fetchone()
    except psycopg.Error:
        return None
    if row is None:
        return None
    manifest = cast(dict[str, Any], json.loads(row[0]))
    return manifest if manifest.get("scale") == scale else None


def recreate_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        database = sql.Identifier(name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(database))


def migrate(url: str) -> None:
    """The schema, by the project's own migrations."""
    env = {**os.environ, "DATABASE_URL": app_url(url), "TELEHEALTH_ENV": "development"}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
    # A fixed argv, no shell: nothing untrusted reaches the command line.
    done = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"migrations failed:\n{done.stdout}\n{done.stderr}")


def password_hash(url: str) -> str:
    """The shared password, hashed once by the project's hasher under production parameters."""
    app = create_app(load_config("development", DATABASE_URL=app_url(url)))
    with app.app_context():
        return hash_password(PASSWORD)


class Deferred(NamedTuple):
    """Foreign keys and secondary indexes as the migrations made them, set aside for the load."""

    foreign_keys: list[tuple[str, str, str]]  # table, name, definition
    indexes: list[tuple[str, str]]  # name, definition


def defer_constraints(conn: psycopg.Connection[Any]) -> Deferred:
    foreign_keys = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace = 'public'::regnamespace ORDER BY 1, 2"
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relnamespace = 'public'::regnamespace "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
        "AND c.contype IN ('p', 'u', 'x')) ORDER BY 1"
    ).fetchall()
    for table, name, _definition in foreign_keys:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
    for name, _definition in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    conn.commit()
    return Deferred(foreign_keys, indexes)


def restore_constraints(conn: psycopg.Connection[Any], deferred: Deferred) -> None:
    """Build the indexes in bulk, then add the foreign keys back (each validated in one join)."""
    conn.execute("SET maintenance_work_mem = '512MB'")
    for _name, definition in deferred.indexes:
        conn.execute(cast(Any, definition))
    for table, name, definition in deferred.foreign_keys:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(table), sql.Identifier(name), sql.SQL(cast(Any, definition))
            )
        )
    conn.commit()


@contextmanager
def copy_into(conn: psycopg.Connection[Any], table: Table, stats: list[TableStat]) -> Iterator[Add]:
    """A function taking lines for `table`; truncated and COPY FREEZE'd in one transaction."""
    started, rows, lines = time.perf_counter(), 0, []
    with conn.cursor() as cursor:
        if table is AUDIT:
            # The seeder writes events already linked (keyed with AUDIT_KEY); the database's
            # guard against inserts the commit would not link is for the app's own inserts.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table.name)))
        with cursor.copy(table.copy_statement()) as copy:

            def add(text: str) -> None:
                nonlocal rows
                lines.append(text)
                if len(lines) >= CHUNK_LINES:
                    copy.write("".join(lines))
                    rows += len(lines)
                    lines.clear()

            yield add
            copy.write("".join(lines))
            rows += len(lines)
    conn.commit()
    stats.append(TableStat(table.name, rows, time.perf_counter() - started))


def load_small_tables(url: str, plan: Plan, rng: random.Random, stats: list[TableStat]) -> None:
    sources: Sequence[tuple[Table, Iterable[str]]] = (
        (USERS, user_rows(plan)),
        (PATIENTS_TABLE, patient_rows(plan)),
        (CARE_TEAM, care_team_rows(plan)),
        (SESSIONS, session_rows(plan)),
        (TRANSITIONS, transition_rows(plan)),
        (NOTES, note_rows(plan, rng)),
    )
    with psycopg.connect(url) as conn:
        for table, rows in sources:
            with copy_into(conn, table, stats) as add:
                for text in rows:
                    add(text)


def load_stream(
    url: str, plan: Plan, total: int, rng: random.Random, stats: list[TableStat]
) -> StreamWriter:
    """Check-ins, scores, alerts and audit events at once, one connection and COPY each."""
    with ExitStack() as stack:
        sinks = {}
        for table in (CHECKINS, SCORES, ALERTS, AUDIT):
            conn = stack.enter_context(psycopg.connect(url))
            sinks[table.name] = stack.enter_context(copy_into(conn, table, stats))
        writer = StreamWriter(plan.anchor, sinks)
        with tqdm(total=total, unit="check-in", unit_scale=True, desc="stream") as progress:
            for drafts in daily_drafts(plan, rng):
                for draft in drafts:
                    writer.write(draft)
                progress.update(len(drafts))
    return writer


def vacuum_analyze(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def table_counts(url: str) -> dict[str, int]:
    tables = (USERS, PATIENTS_TABLE, CARE_TEAM, SESSIONS, TRANSITIONS, NOTES, CHECKINS, SCORES)
    counts = {}
    with psycopg.connect(url) as conn:
        for table in (*tables, ALERTS, AUDIT):
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table.name))
            row = conn.execute(query).fetchone()
            counts[table.name] = row[0] if row else 0
    return counts


def busy_clinician_lists(url: str) -> dict[str, int]:
    """What the busy clinician's list endpoints page through: their care team's open alerts
    (`GET /alerts`' default filter) and sessions (`GET /sessions`)."""
    query = (
        "SELECT (SELECT count(*) FROM safety_alerts WHERE status = 'open' AND patient_id IN "
        "(SELECT patient_id FROM care_team_members WHERE clinician_id = %(clinician)s)), "
        "(SELECT count(*) FROM treatment_sessions WHERE patient_id IN "
        "(SELECT patient_id FROM care_team_members WHERE clinician_id = %(clinician)s))"
    )
    with psycopg.connect(url) as conn:
        row = conn.execute(query, {"clinician": clinician_id(BUSY_CLINICIAN)}).fetchone()
    open_alerts, sessions = row if row else (0, 0)
    return {"open_alerts": open_alerts, "sessions": sessions}


def store_manifest(url: str, manifest: dict[str, Any]) -> None:
    body = json.dumps(manifest, indent=2)
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_manifest (body text NOT NULL)")
        conn.execute("DELETE FROM bench_manifest")
        conn.execute("INSERT INTO bench_manifest (body) VALUES (%s)", (body,))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / f"seed-{manifest['scale']}.json").write_text(body + "\n")


# -- putting it together -------------------------------------------------------------------------


def build_manifest(
    scale: str,
    url: str,
    plan: Plan,
    counts: dict[str, int],
    busy_lists: dict[str, int],
    seconds: float,
) -> dict[str, Any]:
    ordinary = plan.patients[2 : 2 + MANIFEST_PATIENT_IDS]
    busy_team = [p.id for p in plan.patients if p.on_busy_team]
    return {
        "scale": scale,
        "database_url": app_url(url),
        "checkins": counts[CHECKINS.name],
        "patients": len(plan.patients),
        "admin_id": admin_id(),
        "admin_email": f"admin@{EMAIL_DOMAIN}",
        "busy_clinician_id": clinician_id(BUSY_CLINICIAN),
        "busy_clinician_email": clinician_email(BUSY_CLINICIAN),
        "busy_patient_id": plan.patients[0].id,
        "busy_patient_email": patient_email(0),
        "export_patient_id": plan.patients[1].id,
        "export_patient_email": patient_email(1),
        "patient_ids": [p.id for p in ordinary],
        "patient_emails": [patient_email(p.index) for p in ordinary],
        "patient_clinician_ids": [p.clinician_id for p in ordinary],
        "busy_clinician_patient_ids": busy_team,
        "busy_clinician_lists": busy_lists,
        "clinician_ids": [clinician_id(i) for i in range(CLINICIANS)],
        "clinician_emails": [clinician_email(i) for i in range(CLINICIANS)],
        "password": PASSWORD,
        "anchor": ts(plan.anchor),
        "counts": counts,
        "seconds": round(seconds, 1),
    }


def print_summary(stats: list[TableStat], phases: dict[str, float]) -> None:
    print(f"{'table':<22}{'rows':>12}{'seconds':>10}{'rows/s':>12}")
    for stat in stats:
        rate = stat.rows / stat.seconds if stat.seconds else 0.0
        print(f"{stat.table:<22}{stat.rows:>12,}{stat.seconds:>10.1f}{rate:>12,.0f}")
    print("phases: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in phases.items()))


@contextmanager
def phase(phases: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    phases[name] = time.perf_counter() - started


@contextmanager
def seeding_lock(admin_url: str, name: str) -> Iterator[None]:
    """One seeder per database at a time (a session advisory lock on the admin database):
    a second one waits, then finds the manifest the first one left."""
    key = (LOCK_CLASS, zlib.crc32(name.encode()) & 0x7FFFFFFF)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()
        if not (row and row[0]):
            print(f"waiting for another seeder of {name}")
            conn.execute("SELECT pg_advisory_lock(%s, %s)", key)
        yield  # the lock goes with the session


def seed(scale: str, *, admin_url: str = DEFAULT_ADMIN_URL, force: bool = False) -> dict[str, Any]:
    """Create and fill the benchmark database for `scale` unless it is complete; its manifest."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: one of {', '.join(SCALES)}")
    url = with_database(admin_url, database_name(scale))
    with seeding_lock(admin_url, database_name(scale)):
        if not force and (manifest := existing_manifest(url, scale)) is not None:
            print(f"{database_name(scale)} is already seeded (--force to redo it)")
            return manifest
        return load(scale, url, admin_url)


def load(scale: str, url: str, admin_url: str) -> dict[str, Any]:
    """Recreate the database at `url`, migrate, load, index, analyze; store the manifest."""
    started = time.perf_counter()
    rng = random.Random(SEED)  # noqa: S311 - reproducible data, not secrets
    phases: dict[str, float] = {}
    stats: list[TableStat] = []
    with phase(phases, "schema"):
        recreate_database(admin_url, database_name(scale))
        migrate(url)
    with phase(phases, "plan"):
        patients = plan_patients(SCALES[scale], rng)
        anchor = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        plan = Plan(anchor, password_hash(url), patients, plan_answer_pools(rng))
        plan.sessions = plan_sessions(anchor, patients)
    with psycopg.connect(url) as conn:
        deferred = defer_constraints(conn)
        with phase(phases, "load"):
            load_small_tables(url, plan, rng, stats)
            load_stream(url, plan, SCALES[scale], rng, stats)
        with phase(phases, "indexes+fks"):
            restore_constraints(conn, deferred)
    with phase(phases, "vacuum+analyze"):
        vacuum_analyze(url)
    seconds = time.perf_counter() - started
    busy_lists = busy_clinician_lists(url)
    manifest = build_manifest(scale, url, plan, table_counts(url), busy_lists, seconds)
    store_manifest(url, manifest)
    print_summary(stats, phases)
    print(f"busy clinician: {busy_lists['open_alerts']:,} open alerts, "
          f"{busy_lists['sessions']:,} sessions")  # fmt: skip
    print(f"seeded {database_name(scale)} in {seconds:.1f}s")
    return manifest


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scale", choices=sorted(SCALES), required=True)
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument("--force", action="store_true", help="reseed even if already seeded")
    args = parser.parse_args(argv)
    manifest = seed(args.scale, admin_url=args.admin_url, force=args.force)
    print(json.dumps({k: manifest[k] for k in ("database_url", "checkins", "seconds")}))


if __name__ == "__main__":
    main()
