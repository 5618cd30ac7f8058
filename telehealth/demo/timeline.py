"""The plan as steps: the clinic's eight weeks laid out on a calendar, each patient's intake,
check-ins and session days, and the daily passes, each step at its moment."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from telehealth.demo import actions, plan
from telehealth.demo.builder import Body, Step, stamp
from telehealth.demo.course import clamp, course_factor, spread
from telehealth.demo.plan import DemoPatient


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
        planned.append(Step(calendar.utc(day, 23, 30), "schedule pass", actions.schedule_pass))
        for index in range(len(plan.CLINICIANS)):
            acknowledge = day < plan.DAYS - plan.OPEN_FOR_DAYS
            planned.append(
                Step(
                    calendar.utc(day, 22, index), "daily review", actions.review(index, acknowledge)
                )
            )
    # Nothing from today on: the history ends yesterday (UTC), so a run at any hour of the day
    # builds the same clinic. A stable sort keeps steps of one moment in the planned order.
    history_ends = calendar.utc(plan.DAYS, 0)
    return sorted((step for step in planned if step.at < history_ends), key=lambda step: step.at)


def _staff(calendar: Calendar) -> list[Step]:
    planned = [Step(calendar.utc(0, 11), "admin", actions.create_admin)]
    for index, clinician in enumerate(plan.CLINICIANS):
        body = {"email": clinician.email, "name": clinician.name}
        planned.append(
            Step(calendar.utc(0, 11, 5 + index), "clinician", actions.create_clinician(body))
        )
        planned.append(
            Step(calendar.utc(0, 11, 30 + index), "activation", actions.activate(clinician.email))
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
    planned = [Step(created, "patient", actions.create_patient(patient, body))]
    if patient.also_on_team is not None:
        planned.append(
            Step(created + timedelta(minutes=1), "care team", actions.add_to_team(patient))
        )
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
        Step(
            created + timedelta(minutes=1, seconds=30),
            "schedule",
            actions.set_plan(patient, schedule),
        )
    )
    planned.append(Step(calendar.utc(0, 14, number), "activation", actions.activate(patient.email)))
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
        planned.append(Step(moment, "check-in", actions.submit(patient, body)))
        if item9 > 0:
            # Suicidal ideation is the first alert a clinician takes on: within minutes.
            planned.append(
                Step(moment + timedelta(minutes=12), "urgent review", actions.urgent(patient))
            )
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
        planned.append(Step(booked_at, "booking", actions.book(patient, number, body)))
        if day >= plan.DAYS:
            continue  # the coming session: booked, not yet held
        if number == patient.no_show_session:
            planned.append(
                Step(
                    start + timedelta(minutes=30),
                    "no-show",
                    actions.move(patient, number, "no_show"),
                )
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
        Step(
            start - timedelta(minutes=10), "session start", actions.move(patient, number, "start")
        ),
        Step(start + timedelta(minutes=5), "note", actions.note(patient, number, pre)),
        Step(taken, "medication taken", actions.medication(patient, number)),
        Step(taken + timedelta(minutes=42), "note", actions.note(patient, number, plus_40)),
    ]
    if reason is not None:
        planned.append(
            Step(taken + timedelta(minutes=60), "urgent review", actions.urgent(patient))
        )
        planned.append(
            Step(
                taken + timedelta(minutes=90),
                "complete",
                actions.move(patient, number, "complete", reason),
            )
        )
        return planned
    planned.append(Step(taken + timedelta(minutes=123), "note", actions.note(patient, number, end)))
    planned.append(
        Step(taken + timedelta(minutes=126), "complete", actions.move(patient, number, "complete"))
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
                actions.amend(patient, number, "plus_40_min", correction),
            )
        )
    after = taken + timedelta(hours=4)
    planned.append(
        Step(
            after,
            "check-in",
            actions.submit(
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
