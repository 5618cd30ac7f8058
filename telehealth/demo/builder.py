"""Building the demo clinic: the plan's eight weeks replayed, step by step, through the services
the API uses, each at its own moment on a clock set back to it.

Every step is what one request would do: its body is loaded by the route's own schema (so the
API's validation applies), the service does the work under the same rules and raises the same
alerts, and the step's audit event is written by the function the request boundary uses. All
steps run in one transaction, so a clinic is built whole or not at all.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from flask import current_app
from marshmallow import Schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from telehealth import context
from telehealth.accounts import service as accounts
from telehealth.accounts.models import User
from telehealth.accounts.schemas import ClinicianIn
from telehealth.alerts import service as alerts
from telehealth.alerts.models import AlertStatus, SafetyAlert
from telehealth.alerts.schemas import AcknowledgeIn
from telehealth.audit import chain
from telehealth.audit.context import AuditContext
from telehealth.auth.schemas import ActivateIn
from telehealth.checkins import outcomes
from telehealth.checkins import service as checkins
from telehealth.checkins.schemas import CheckInIn
from telehealth.db import utcnow
from telehealth.demo import plan
from telehealth.demo.plan import Course, DemoPatient
from telehealth.monitoring import service as monitoring
from telehealth.monitoring.schemas import AmendmentIn, NoteIn
from telehealth.patients import service as patients
from telehealth.patients.schemas import PatientIn
from telehealth.schedules import service as schedules
from telehealth.schedules.schemas import PlanIn
from telehealth.schedules.tick import run_schedules
from telehealth.sessions import service as sessions
from telehealth.sessions.schemas import CompleteIn, EmptyIn, MedicationTakenIn, SessionIn

Body = dict[str, Any]


@dataclass(frozen=True)
class Step:
    """One thing that happens in the clinic, at its moment."""

    at: datetime
    label: str
    run: Callable[[Builder], None]


@dataclass
class Builder:
    """Runs the steps in one session, remembering what earlier steps made."""

    session: Session
    users: dict[str, User] = field(default_factory=dict)
    invitations: dict[str, str] = field(default_factory=dict)
    booked: dict[tuple[str, int], uuid.UUID] = field(default_factory=dict)
    notes: dict[tuple[str, int, str], uuid.UUID] = field(default_factory=dict)
    request_number: int = 0

    def run(self, steps: Iterable[Step]) -> None:
        """Each step on the clock of its moment; the clock is back to now afterwards."""
        with time_machine.travel(datetime(2000, 1, 1, tzinfo=UTC), tick=False) as traveller:
            for step in steps:
                traveller.move_to(step.at)
                step.run(self)

    @contextmanager
    def request(
        self, actor: User | None, action: str, resource_type: str, status: int = 200
    ) -> Iterator[AuditContext]:
        """What a request around a service call adds: the caller and, once the work is done,
        the audit event, written as the request boundary writes it."""
        self.request_number += 1
        # A request context of its own, as the route has: the audit event reads the caller's
        # address from it.
        environ = {"REMOTE_ADDR": "127.0.0.1"}
        with current_app.test_request_context("/api/v1", environ_base=environ):
            context.set_current_actor(actor)
            context.set_request_id(f"demo-{self.request_number:05d}")
            audit = AuditContext(action=action, resource_type=resource_type)
            yield audit
            chain.append(self.session, audit.event(status))
            context.set_current_actor(None)
            context.set_request_id(None)


def load(schema: Schema, body: Body) -> Body:
    """The body as the route would hand it to the service, after the route's own validation."""
    loaded: Body = schema.load(body)
    return loaded


def stamp(moment: datetime) -> str:
    return moment.isoformat()


# --- the course of each patient's symptoms ---------------------------------------------------


def course_factor(course: Course, day: int) -> float:
    """The expected total on `day` as a fraction of the baseline."""
    if course is Course.RESPONDER:
        return 1 - 0.65 * min(day, 28) / 28 - 0.1 * max(day - 28, 0) / 28
    if course is Course.PARTIAL:
        return 1 - 0.4 * min(day, 35) / 35
    if course is Course.SLOW:
        return 1.0 if day < 21 else 1 - 0.55 * (day - 21) / 35
    # Deteriorates: a short lift from the first sessions, then worse than at the start.
    return 1 - 0.2 * day / 14 if day < 14 else 0.8 + 0.75 * (day - 14) / 42


def spread(
    rng: random.Random, total: int, items: int, top: int, fixed: dict[int, int]
) -> list[int]:
    """Item answers (0..top) that sum to `total`, with the `fixed` items set as given."""
    answers = [fixed.get(i, 0) for i in range(items)]
    free = [i for i in range(items) if i not in fixed]
    remaining = max(0, min(total - sum(answers), top * len(free)))
    while remaining:
        open_items = [i for i in free if answers[i] < top]
        answers[rng.choice(open_items)] += 1
        remaining -= 1
    return answers


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


@dataclass
class Calendar:
    """The calendar of the history: day 0 is eight weeks before today (UTC)."""

    today: date

    def day(self, number: int) -> date:
        return self.today - timedelta(days=plan.DAYS - number)

    def utc(self, number: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(self.day(number), time(hour, minute), tzinfo=UTC)

    def local(self, number: int, zone: str, hour: int, minute: int) -> datetime:
        """`hour:minute` on the patient's wall clock on that (local) day, in UTC."""
        moment = datetime.combine(self.day(number), time(hour, minute), tzinfo=ZoneInfo(zone))
        return moment.astimezone(UTC)


# --- the plan, as steps ----------------------------------------------------------------------


def steps(today: date, seed: int = plan.SEED) -> list[Step]:
    """Every step of the demo clinic's history, in the order they happen."""
    rng = random.Random(seed)  # noqa: S311 - made-up answers, not secrets
    calendar = Calendar(today)
    planned: list[Step] = []
    planned += _staff(calendar)
    slots: dict[int, int] = {}
    for number, patient in enumerate(plan.PATIENTS):
        slot = slots.get(patient.clinician, 0)
        slots[patient.clinician] = slot + 1
        planned += _intake(calendar, number, patient)
        planned += _checkins(rng, calendar, patient)
        planned += _sessions(rng, calendar, patient, slot)
    for day in range(plan.DAYS):
        planned.append(Step(calendar.utc(day, 23, 30), "schedule pass", _schedule_pass))
        for index in range(len(plan.CLINICIANS)):
            acknowledge = day < plan.DAYS - plan.OPEN_FOR_DAYS
            planned.append(
                Step(calendar.utc(day, 22, index), "daily review", _review(index, acknowledge))
            )
    # Nothing from today on: the history ends yesterday (UTC), so a run at any hour of the day
    # builds the same clinic. A stable sort keeps steps of one moment in the planned order.
    history_ends = calendar.utc(plan.DAYS, 0)
    return sorted((step for step in planned if step.at < history_ends), key=lambda step: step.at)


def _staff(calendar: Calendar) -> list[Step]:
    planned = [Step(calendar.utc(0, 11), "admin", _create_admin)]
    for index, clinician in enumerate(plan.CLINICIANS):
        body = {"email": clinician.email, "name": clinician.name}
        planned.append(Step(calendar.utc(0, 11, 5 + index), "clinician", _create_clinician(body)))
        planned.append(
            Step(calendar.utc(0, 11, 30 + index), "activation", _activate(clinician.email))
        )
    return planned


def _intake(calendar: Calendar, number: int, patient: DemoPatient) -> list[Step]:
    """The clinician creates the record and sets the check-in plan; the patient activates the
    account and answers every questionnaire of the plan (the baseline)."""
    created = calendar.utc(0, 12, 2 * number)
    body = {
        "email": patient.email,
        "name": patient.name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "timezone": patient.timezone,
        "emergency_contact": {
            "name": plan.MONITORS[number % len(plan.MONITORS)][0],
            "phone": "+1 555 0199",
        },
    }
    planned = [Step(created, "patient", _create_patient(patient, body))]
    if patient.also_on_team is not None:
        planned.append(Step(created + timedelta(minutes=1), "care team", _add_to_team(patient)))
    at = f"{patient.checkin_hour:02d}:00"
    items: list[Body] = [
        {"instrument": "mood", "every": "day", "at": at},
        {"instrument": "PHQ-9", "every": "week", "at": at, "weekday": 0},
        {"instrument": "GAD-7", "every": "week", "at": at, "weekday": 0},
    ]
    if patient.pcl5 is not None:
        items.append({"instrument": "PCL-5", "every": "month", "at": at, "day": 1})
    schedule = {"reminders": patient.reminders, "items": items}
    planned.append(
        Step(created + timedelta(minutes=1, seconds=30), "schedule", _plan(patient, schedule))
    )
    planned.append(Step(calendar.utc(0, 14, number), "activation", _activate(patient.email)))
    return planned


def _checkins(rng: random.Random, calendar: Calendar, patient: DemoPatient) -> list[Step]:
    """The baseline at intake, then a daily check-in, with the PHQ-9 and GAD-7 on Mondays and
    the PCL-5 on the first of the month for a patient who has it in their plan."""
    planned = []
    item9_pending = patient.item9_day
    for day in range(plan.DAYS):
        if patient.silent_from is not None and day >= patient.silent_from:
            break
        if day == 0:
            moment = calendar.utc(0, 16, rng.randrange(0, 50))
        else:
            minute = rng.randrange(5, 55)
            moment = calendar.local(day, patient.timezone, patient.checkin_hour, minute)
        local_day = moment.astimezone(ZoneInfo(patient.timezone)).date()
        factor = course_factor(patient.course, day)
        phq9 = patient.phq9 * factor
        gad7 = patient.gad7 * factor
        body: Body = {
            "recorded_at": stamp(moment - timedelta(minutes=1)),
            "mood": round(clamp(9 - 0.3 * phq9 + rng.gauss(0, 0.8), 0, 10)),
            "anxiety": round(clamp(0.45 * gad7 + rng.gauss(0, 0.8), 0, 10)),
            "sleep_hours": round(clamp(5 + 0.11 * (27 - phq9) + rng.gauss(0, 0.5), 0, 24) * 2) / 2,
        }
        if rng.random() < 0.25:
            body["note"] = rng.choice(plan.DAILY_NOTES)
        instruments: dict[str, list[int]] = {}
        item9 = 0
        # The day before a silent spell the patient answers the questionnaires unasked.
        last_word = patient.silent_from is not None and day == patient.silent_from - 1
        if day == 0 or local_day.weekday() == 0 or last_word:
            if item9_pending is not None and day >= item9_pending:
                item9, item9_pending = 1, None
            total = round(clamp(phq9 + rng.gauss(0, 1.2), 0, 27))
            instruments["PHQ-9"] = spread(rng, max(total, item9), 9, 3, {8: item9})
            total = round(clamp(gad7 + rng.gauss(0, 1.0), 0, 21))
            instruments["GAD-7"] = spread(rng, total, 7, 3, {})
        if patient.pcl5 is not None and (day == 0 or local_day.day == 1):
            total = round(clamp(patient.pcl5 * factor + rng.gauss(0, 2), 0, 80))
            instruments["PCL-5"] = spread(rng, total, 20, 4, {})
        if instruments:
            body["instruments"] = instruments
        planned.append(Step(moment, "check-in", _submit(patient, body)))
        if item9 > 0:
            # Suicidal ideation is the first alert a clinician takes on: within minutes.
            planned.append(Step(moment + timedelta(minutes=12), "urgent review", _urgent(patient)))
    return planned


def _sessions(
    rng: random.Random, calendar: Calendar, patient: DemoPatient, slot: int
) -> list[Step]:
    planned = []
    monitor_name, monitor_phone = plan.MONITORS[rng.randrange(len(plan.MONITORS))]
    monitor = {"name": monitor_name, "phone": monitor_phone}
    days = [*plan.SESSION_DAYS, plan.DAYS + plan.UPCOMING_IN_DAYS]
    for number, day in enumerate(days, start=1):
        start = calendar.utc(day, plan.SLOT_HOURS[slot])
        booked_at = min(
            calendar.utc(max(day - 2, 1), 18, 30 + slot), calendar.utc(plan.DAYS - 1, 23, 40)
        )
        body = {
            "patient_id": None,  # filled in when the step runs
            "scheduled_start": stamp(start),
            "duration_minutes": plan.SESSION_MINUTES,
            "modality": "video" if number % 3 else "phone",
            "treatment_monitor": monitor,
            "notes": f"Session {number} of the course.",
        }
        planned.append(Step(booked_at, "booking", _book(patient, number, body)))
        if day >= plan.DAYS:
            continue  # the coming session: booked, not yet held
        if number == patient.no_show_session:
            planned.append(
                Step(start + timedelta(minutes=30), "no-show", _move(patient, number, "no_show"))
            )
            continue
        planned += _session_day(rng, patient, number, start)
    return planned


def _session_day(
    rng: random.Random, patient: DemoPatient, number: int, start: datetime
) -> list[Step]:
    """Start, pre-session note, medication taken, +40 min, end of session, complete: every note
    signed by its author right after it is written."""
    taken = start + timedelta(minutes=12)
    pre = {
        "checkpoint": "pre_session",
        "observed_at": stamp(start + timedelta(minutes=5)),
        "vitals": {
            "systolic": rng.randint(112, 134),
            "diastolic": rng.randint(68, 84),
            "heart_rate": rng.randint(62, 86),
            "spo2": rng.randint(96, 99),
        },
        "text": "Treatment monitor present, an adult, on camera. The patient will not drive "
        "until tomorrow. Intention for the session discussed.",
    }
    side_effects = sorted(rng.sample(["nausea", "dizziness", "dissociation", "headache"], 2))
    plus_40: Body = {
        "checkpoint": "plus_40_min",
        "observed_at": stamp(taken + timedelta(minutes=42)),
        "vitals": {
            "systolic": rng.randint(128, 148),
            "diastolic": rng.randint(78, 92),
            "heart_rate": rng.randint(72, 98),
            "spo2": rng.randint(95, 99),
        },
        "sedation": rng.choice([4, 4, 5]),
        "dissociation": rng.choice(["mild", "mild", "moderate", "none"]),
        "side_effects": side_effects,
        "text": "Comfortable, eyes closed, answering questions. Monitor beside the patient.",
    }
    end = {
        "checkpoint": "end_of_session",
        "observed_at": stamp(taken + timedelta(minutes=123)),
        "vitals": {
            "systolic": rng.randint(114, 136),
            "diastolic": rng.randint(70, 86),
            "heart_rate": rng.randint(62, 84),
            "spo2": rng.randint(96, 99),
        },
        "sedation": 5,
        "dissociation": "none",
        "side_effects": [],
        "text": "Alert and oriented, walking steadily. Handed over to the treatment monitor.",
    }
    reason = None
    if number == patient.flagged_bp_session:
        plus_40["vitals"] = {"systolic": 168, "diastolic": 102, "heart_rate": 94, "spo2": 97}
        plus_40["side_effects"] = ["elevated_blood_pressure", "headache"]
        plus_40["text"] = (
            "Blood pressure up at +40 min, mild headache, no chest pain. Resting with the "
            "monitor; recheck at the end of the session."
        )
    if number == patient.adverse_event_session:
        plus_40["vitals"] = {"systolic": 104, "diastolic": 66, "heart_rate": 104, "spo2": 95}
        plus_40["side_effects"] = ["dizziness", "nausea", "vomiting"]
        plus_40["adverse_event"] = {
            "description": "Vomited repeatedly and fainted briefly while seated.",
            "severity": "moderate",
            "serious": True,
            "emergency_care": True,
            "action_taken": "Stayed on video with the monitor until paramedics arrived; the "
            "patient was taken to the emergency department.",
        }
        plus_40["text"] = "Adverse event, see above. Monitor called emergency services."
        reason = "The patient was taken to emergency care before the end-of-session check."
    planned = [
        Step(start - timedelta(minutes=10), "session start", _move(patient, number, "start")),
        Step(start + timedelta(minutes=5), "note", _note(patient, number, pre)),
        Step(taken, "medication taken", _medication(patient, number)),
        Step(taken + timedelta(minutes=42), "note", _note(patient, number, plus_40)),
    ]
    if reason is not None:
        planned.append(Step(taken + timedelta(minutes=60), "urgent review", _urgent(patient)))
        planned.append(
            Step(
                taken + timedelta(minutes=90),
                "complete",
                _move(patient, number, "complete", reason),
            )
        )
        return planned
    planned.append(Step(taken + timedelta(minutes=123), "note", _note(patient, number, end)))
    planned.append(
        Step(taken + timedelta(minutes=126), "complete", _move(patient, number, "complete"))
    )
    if number == patient.flagged_bp_session:
        correction = {
            "text": "Recheck at +60 min, seated, after rest: 142/88, heart rate 84.",
            "reason": "The recheck was left out of the note.",
        }
        planned.append(
            Step(
                taken + timedelta(minutes=140),
                "amendment",
                _amend(patient, number, "plus_40_min", correction),
            )
        )
    after = taken + timedelta(hours=4)
    planned.append(
        Step(
            after,
            "check-in",
            _submit(
                patient,
                {
                    "recorded_at": stamp(after - timedelta(minutes=1)),
                    "mood": rng.randint(5, 8),
                    "context": "post_session",
                    "note": "Resting at home after the session.",
                },
                session_number=number,
            ),
        )
    )
    return planned


# --- what each step does ---------------------------------------------------------------------


def _create_admin(builder: Builder) -> None:
    email, name = plan.ADMIN
    builder.users[email] = accounts.create_admin(
        builder.session, email=email, name=name, password=plan.PASSWORD
    )


def _create_clinician(body: Body) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        admin = builder.users[plan.ADMIN[0]]
        with builder.request(admin, "clinician.create", "user", 201) as audit:
            invited = accounts.create_clinician(builder.session, **load(ClinicianIn(), body))
            audit.resource_id = str(invited.record.id)
        builder.users[body["email"]] = invited.record
        builder.invitations[body["email"]] = invited.invitation_token

    return run


def _activate(email: str) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        body = {"token": builder.invitations.pop(email), "password": plan.PASSWORD}
        with builder.request(None, "auth.activate", "user"):
            user = accounts.activate(builder.session, **load(ActivateIn(), body))
            context.set_current_actor(user)

    return run


def _create_patient(patient: DemoPatient, body: Body) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[patient.clinician].email]
        with builder.request(clinician, "patient.create", "patient", 201) as audit:
            invited = patients.create_patient(builder.session, clinician, **load(PatientIn(), body))
            audit.resource_id, audit.patient_id = str(invited.record.id), invited.record.id
        builder.users[patient.email] = invited.record.user
        builder.invitations[patient.email] = invited.invitation_token

    return run


def _add_to_team(patient: DemoPatient) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[patient.clinician].email]
        colleague = builder.users[plan.CLINICIANS[patient.also_on_team or 0].email]
        record = builder.users[patient.email]
        with builder.request(clinician, "care_team.add", "care_team") as audit:
            patients.add_to_care_team(builder.session, clinician, record.id, colleague.id)
            audit.resource_id, audit.patient_id = str(colleague.id), record.id

    return run


def _plan(patient: DemoPatient, body: Body) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[patient.clinician].email]
        record = builder.users[patient.email]
        with builder.request(clinician, "schedule.update", "schedule") as audit:
            plan_in = load(PlanIn(), body)
            schedules.replace_plan(builder.session, clinician, record.id, **plan_in, if_match=None)
            audit.resource_id, audit.patient_id = str(record.id), record.id

    return run


def _submit(
    patient: DemoPatient, body: Body, session_number: int | None = None
) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        user = builder.users[patient.email]
        if session_number is not None:
            body["session_id"] = str(builder.booked[(patient.email, session_number)])
        with builder.request(user, "checkin.create", "checkin", 201) as audit:
            submitted = checkins.submit(builder.session, user, load(CheckInIn(), body))
            audit.resource_id, audit.patient_id = str(submitted.id), user.id

    return run


def _book(patient: DemoPatient, number: int, body: Body) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[patient.clinician].email]
        record = builder.users[patient.email]
        with builder.request(clinician, "session.create", "session", 201) as audit:
            loaded = load(SessionIn(), {**body, "patient_id": str(record.id)})
            booked = sessions.schedule(builder.session, clinician, **loaded)
            audit.resource_id, audit.patient_id = str(booked.id), record.id
        builder.booked[(patient.email, number)] = booked.id

    return run


def _move(
    patient: DemoPatient, number: int, action: str, reason: str | None = None
) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[patient.clinician].email]
        session_id = builder.booked[(patient.email, number)]
        body = load(CompleteIn(), {"reason": reason}) if reason else load(EmptyIn(), {})
        with builder.request(clinician, f"session.{action}", "session") as audit:
            moved = sessions.move(
                builder.session, clinician, session_id, action, body.get("reason")
            )
            audit.resource_id, audit.patient_id = str(moved.id), moved.patient_id

    return run


def _medication(patient: DemoPatient, number: int) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[patient.clinician].email]
        session_id = builder.booked[(patient.email, number)]
        body = load(MedicationTakenIn(), {})
        with builder.request(clinician, "session.medication_taken", "session") as audit:
            treatment = sessions.record_medication_taken(
                builder.session, clinician, session_id, body.get("taken_at")
            )
            audit.resource_id, audit.patient_id = str(treatment.id), treatment.patient_id

    return run


def _note(patient: DemoPatient, number: int, body: Body) -> Callable[[Builder], None]:
    """A monitoring note, signed by its author as soon as it is written."""

    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[patient.clinician].email]
        session_id = builder.booked[(patient.email, number)]
        with builder.request(clinician, "note.create", "monitoring_note", 201) as audit:
            note = monitoring.add_note(builder.session, clinician, session_id, load(NoteIn(), body))
            audit.resource_id, audit.patient_id = str(note.id), note.patient_id
        with builder.request(clinician, "note.sign", "monitoring_note") as audit:
            monitoring.sign(builder.session, clinician, note.id)
            audit.resource_id, audit.patient_id = str(note.id), note.patient_id
        builder.notes[(patient.email, number, body["checkpoint"])] = note.id

    return run


def _amend(
    patient: DemoPatient, number: int, checkpoint: str, body: Body
) -> Callable[[Builder], None]:
    """A correction added to a signed note, which stays as it was."""

    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[patient.clinician].email]
        note_id = builder.notes[(patient.email, number, checkpoint)]
        with builder.request(clinician, "note.amend", "monitoring_note", 201) as audit:
            amendment = monitoring.amend(
                builder.session, clinician, note_id, **load(AmendmentIn(), body)
            )
            audit.resource_id, audit.patient_id = str(note_id), amendment.note.patient_id

    return run


def _schedule_pass(builder: Builder) -> None:
    """The worker's pass over every plan: reminders, and alerts for silent patients."""
    run_schedules(builder.session, current_app.config)


def _open_alerts(
    builder: Builder, clinician: User, patient_id: uuid.UUID | None
) -> list[SafetyAlert]:
    statement = alerts.visible_alerts(clinician).where(SafetyAlert.status == AlertStatus.OPEN)
    if patient_id is not None:
        statement = statement.where(SafetyAlert.patient_id == patient_id)
    return list(builder.session.scalars(statement.order_by(SafetyAlert.created_at, SafetyAlert.id)))


def _acknowledge(builder: Builder, clinician: User, alert: SafetyAlert) -> None:
    body = load(AcknowledgeIn(), {"note": plan.ACKNOWLEDGE_NOTES[alert.kind.value]})
    with builder.request(clinician, "alert.acknowledge", "alert") as audit:
        alerts.acknowledge(builder.session, clinician, alert.id, body.get("note"))
        audit.resource_id, audit.patient_id = str(alert.id), alert.patient_id


def _urgent(patient: DemoPatient) -> Callable[[Builder], None]:
    """The patient's clinician opens the alert list at once and takes on what was raised."""

    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[patient.clinician].email]
        record = builder.users[patient.email]
        with builder.request(clinician, "alert.list", "alert") as audit:
            audit.patient_id = record.id
            pending = _open_alerts(builder, clinician, record.id)
        for alert in pending:
            if alert.priority <= 2:
                _acknowledge(builder, clinician, alert)

    return run


def _review(index: int, acknowledge: bool) -> Callable[[Builder], None]:
    """A clinician's end-of-day review: the alert list (which raises any overdue checkpoint),
    each open alert taken on, and on Mondays the outcomes of every care-team patient."""

    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[index].email]
        with builder.request(clinician, "alert.list", "alert"):
            monitoring.raise_overdue_checkpoint_alerts(builder.session, clinician)
            pending = _open_alerts(builder, clinician, None)
        if acknowledge:
            for alert in pending:
                _acknowledge(builder, clinician, alert)
        if utcnow().weekday() != 0:
            return
        team = builder.session.scalars(patients.visible_patient_ids(clinician)).all()
        for patient_id in sorted(team):
            with builder.request(clinician, "outcome.read", "outcome") as audit:
                audit.patient_id = patient_id
                outcomes.outcomes(builder.session, patient_id)

    return run


# --- is the clinic there? --------------------------------------------------------------------


def exists(session: Session) -> bool:
    """The demo clinic was built (it is built whole or not at all; earlier versions of the
    demo made the same admin)."""
    return session.scalar(select(User.id).where(User.email == plan.ADMIN[0])) is not None
