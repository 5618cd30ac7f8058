"""Scheduler benchmark: one check-in scheduler pass (`run_schedules`) over many patients.

    .venv/bin/python -m bench.schedule_tick [--patients 10000] [--passes 3]
        [--database-server postgresql://postgres@127.0.0.1:5432/]

What it does:

1. creates a fresh PostgreSQL database (`telehealth_schedule_bench_<random>`, dropped at the
   end) and migrates it;
2. seeds `--patients` patients with bulk INSERTs (a few thousand rows per statement): their
   accounts and records, spread over four time zones (New York, Chicago, London, Berlin), each
   on the care team of one of 100 clinicians, each with the default plan (mood daily at 09:00,
   PHQ-9 and GAD-7 on Mondays, PCL-5 on the 1st) starting ten days before; every second patient
   checked in today (mood), every fourth also answered the PHQ-9;
3. on a clock fixed at Monday 7 December 2026 15:00 UTC (10:00 in New York, 09:00 in Chicago,
   15:00 in London, 16:00 in Berlin: every patient has a first or a second reminder due for
   each undone item), times the worker's periodic check as the worker runs it (one transaction:
   `run_schedules`, then the commit, which hands the new events to the queue, in memory here):
   the first pass sends the reminders and raises a `missed_checkins` alert for every patient
   silent since the plan began (half of them); each later pass (`--passes` in all) finds
   everything claimed already and sends nothing.

It prints one JSON object: per pass the seconds, the statements sent (the same whatever the
number of patients: no query per patient), and the reminders and alerts it made. The machine's
other work shares its two cores with PostgreSQL, so figures are this machine's. Not a CI gate.

`seed` is also what tests/schedules/test_tick_statements.py seeds with (on SQLite too).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from bench.scratch import scratch_database

#: The bench's moment: a Monday, mid-morning in America, afternoon in Europe.
MOMENT = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
ZONES = ("America/New_York", "America/Chicago", "Europe/London", "Europe/Berlin")
CLINICIANS = 100
BATCH = 5000
PHQ9_MILD = [1, 1, 1, 1, 1, 1, 0, 0, 0]


@dataclass(frozen=True)
class Seeded:
    clinicians: list[uuid.UUID]
    patients: list[uuid.UUID]


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def seed(
    session: Session,
    count: int,
    *,
    now: datetime,
    clinicians: int = CLINICIANS,
    zones: Sequence[str] = ZONES,
    days_back: int = 10,
    tag: str = "",
) -> Seeded:
    """`count` patients with the default plan from `days_back` days before `now`, in bulk;
    every second one checked in at local 07:00 today (mood), every fourth also with PHQ-9
    answers. `tag` keeps the emails of several seedings apart."""
    from telehealth.accounts.models import Role, User
    from telehealth.checkins.models import InstrumentScore, MoodCheckIn
    from telehealth.patients.models import CareTeamMember, Patient
    from telehealth.schedules.defaults import DEFAULT_ITEMS
    from telehealth.schedules.models import CheckinPlan, CheckinPlanItem

    tag = tag or secrets.token_hex(3)
    staff = [uuid.uuid4() for _ in range(min(clinicians, count) or 1)]
    people = [uuid.uuid4() for _ in range(count)]
    users = [
        {"id": i, "email": f"sched-{tag}-c{n}@example.test", "name": f"Dr. Bench {n}",
         "role": Role.CLINICIAN, "created_at": now, "updated_at": now}
        for n, i in enumerate(staff)
    ] + [
        {"id": i, "email": f"sched-{tag}-p{n}@example.test", "name": f"Bench Patient {n}",
         "role": Role.PATIENT, "created_at": now, "updated_at": now}
        for n, i in enumerate(people)
    ]  # fmt: skip
    patients, members, plans, items, checkins, scores = [], [], [], [], [], []
    for n, patient_id in enumerate(people):
        zone = zones[n % len(zones)]
        local_now = now.astimezone(ZoneInfo(zone))
        starts_on: date = local_now.date() - timedelta(days=days_back)
        patients.append(
            {"id": patient_id, "date_of_birth": date(1980, 1, 2), "timezone": zone,
             "emergency_contact_name": "Em Contact", "emergency_contact_phone": "+1 555 0100",
             "created_by_id": staff[n % len(staff)], "created_at": now, "updated_at": now}
        )  # fmt: skip
        members.append(
            {"patient_id": patient_id, "clinician_id": staff[n % len(staff)], "added_at": now}
        )
        plans.append({"patient_id": patient_id, "reminders": True, "version": 1, "updated_at": now})
        items += [
            {"id": uuid.uuid4(), "patient_id": patient_id, "position": position,
             "instrument": fields["instrument"], "every": fields["every"], "at": fields["at"],
             "weekday": fields.get("weekday"), "day": fields.get("day"), "starts_on": starts_on}
            for position, fields in enumerate(DEFAULT_ITEMS)
        ]  # fmt: skip
        if n % 2 == 0:
            recorded = datetime.combine(local_now.date(), clock_time(7), tzinfo=ZoneInfo(zone))
            checkin_id = uuid.uuid4()
            checkins.append(
                {"id": checkin_id, "patient_id": patient_id, "recorded_at": recorded,
                 "received_at": recorded, "updated_at": recorded, "mood": 6}
            )  # fmt: skip
            if n % 4 == 0:
                scores.append(
                    {"id": uuid.uuid4(), "checkin_id": checkin_id, "patient_id": patient_id,
                     "instrument": "PHQ-9", "version": "1", "recorded_at": recorded,
                     "answers": PHQ9_MILD, "total": 6, "band": "mild", "extra": {}}
                )  # fmt: skip
    for model, rows in (
        (User, users),
        (Patient, patients),
        (CareTeamMember, members),
        (CheckinPlan, plans),
        (CheckinPlanItem, items),
        (MoodCheckIn, checkins),
        (InstrumentScore, scores),
    ):
        for chunk in _chunks(rows):
            session.execute(insert(model), chunk)
    return Seeded(staff, people)


@contextmanager
def counting_statements(session: Session) -> Iterator[list[str]]:
    """Every statement the session's engine sends inside the block."""
    engine = session.get_bind().engine
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def database(server_url: str) -> AbstractContextManager[str]:
    """A fresh database on the server, dropped afterwards."""
    return scratch_database(server_url, "telehealth_schedule_bench")


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.schedule_tick",
        description="How long one check-in scheduler pass takes over many patients (PostgreSQL).",
    )
    parser.add_argument("--patients", type=int, default=10_000, help="patients (10000)")
    parser.add_argument("--passes", type=int, default=3, help="passes to time (3)")
    parser.add_argument(
        "--database-server",
        default=os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/",
        help="PostgreSQL server URL (TEST_DATABASE_URL; default "
        "postgresql://postgres@127.0.0.1:5432/)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    # Events are handed to a queue at commit: an in-memory one, made on first import.
    os.environ["TASK_QUEUE_URL"] = "memory://"

    import time_machine
    from flask_migrate import upgrade

    from config import load_config
    from telehealth import create_app
    from telehealth.extensions import db
    from telehealth.schedules.tick import run_schedules

    with database(args.database_server) as url:
        app = create_app(load_config("development", DATABASE_URL=url, REDIS_URL=None))
        with app.app_context():
            upgrade()
            started = time.monotonic()
            with db.begin() as session:
                seed(session, args.patients, now=MOMENT)
            seeded_in = time.monotonic() - started
            passes = []
            with time_machine.travel(MOMENT, tick=True):
                for _ in range(args.passes):
                    started = time.monotonic()
                    # As the worker runs it: one transaction, committed.
                    with db.begin() as session, counting_statements(session) as sent:
                        reminders, alerts = run_schedules(session, app.config)
                        session.flush()  # the outbox rows (else written by the commit)
                    seconds = time.monotonic() - started
                    passes.append(
                        {"seconds": round(seconds, 3), "statements": len(sent),
                         "reminders": reminders, "alerts": alerts}
                    )  # fmt: skip
            db.engine.dispose()
    print(
        json.dumps(
            {"patients": args.patients, "plan_items": args.patients * 4,
             "seeded_seconds": round(seeded_in, 1), "passes": passes}
        )
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
