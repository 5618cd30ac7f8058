"""What each step does: one request's work (a record created, a check-in submitted, a session
booked or moved, a note written and signed, alerts taken on) through the service the route
calls, inside the builder's request."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import current_app

from telehealth import context
from telehealth.accounts import service as accounts
from telehealth.accounts.models import User
from telehealth.accounts.schemas import ClinicianIn
from telehealth.alerts import service as alerts
from telehealth.alerts.models import AlertStatus, SafetyAlert
from telehealth.alerts.schemas import AcknowledgeIn
from telehealth.auth.schemas import ActivateIn
from telehealth.checkins import outcomes
from telehealth.checkins import service as checkins
from telehealth.checkins.schemas import CheckInIn
from telehealth.db import utcnow
from telehealth.demo import plan
from telehealth.demo.builder import Body, Builder, load
from telehealth.demo.plan import DemoPatient
from telehealth.monitoring import service as monitoring
from telehealth.monitoring.schemas import AmendmentIn, NoteIn
from telehealth.patients import care_teams, records
from telehealth.patients import service as patients
from telehealth.patients.schemas import PatientIn
from telehealth.schedules import service as schedules
from telehealth.schedules.schemas import PlanIn
from telehealth.schedules.tick import run_schedules
from telehealth.sessions import lifecycle, scheduling
from telehealth.sessions.schemas import CompleteIn, EmptyIn, MedicationTakenIn, SessionIn


def create_admin(builder: Builder) -> None:
    email, name = plan.ADMIN
    builder.users[email] = accounts.create_admin(
        builder.session, email=email, name=name, password=plan.PASSWORD
    )


def create_clinician(body: Body) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        admin = builder.users[plan.ADMIN[0]]
        with builder.request(admin, "clinician.create", "user", 201) as audit:
            invited = accounts.create_clinician(builder.session, **load(ClinicianIn(), body))
            audit.resource_id = str(invited.record.id)
        builder.users[body["email"]] = invited.record
        builder.invitations[body["email"]] = invited.invitation_token

    return run


def activate(email: str) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        body = {"token": builder.invitations.pop(email), "password": plan.PASSWORD}
        with builder.request(None, "auth.activate", "user"):
            user = accounts.activate(builder.session, **load(ActivateIn(), body))
            context.set_current_actor(user)

    return run


def create_patient(patient: DemoPatient, body: Body) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[patient.clinician].email]
        with builder.request(clinician, "patient.create", "patient", 201) as audit:
            invited = records.create_patient(builder.session, clinician, **load(PatientIn(), body))
            audit.resource_id, audit.patient_id = str(invited.record.id), invited.record.id
        builder.users[patient.email] = invited.record.user
        builder.invitations[patient.email] = invited.invitation_token

    return run


def add_to_team(patient: DemoPatient) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[patient.clinician].email]
        colleague = builder.users[plan.CLINICIANS[patient.also_on_team or 0].email]
        record = builder.users[patient.email]
        with builder.request(clinician, "care_team.add", "care_team") as audit:
            care_teams.add_to_care_team(builder.session, clinician, record.id, colleague.id)
            audit.resource_id, audit.patient_id = str(colleague.id), record.id

    return run


def set_plan(patient: DemoPatient, body: Body) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[patient.clinician].email]
        record = builder.users[patient.email]
        with builder.request(clinician, "schedule.update", "schedule") as audit:
            plan_in = load(PlanIn(), body)
            schedules.replace_plan(builder.session, clinician, record.id, **plan_in, if_match=None)
            audit.resource_id, audit.patient_id = str(record.id), record.id

    return run


def submit(
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


def book(patient: DemoPatient, number: int, body: Body) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[patient.clinician].email]
        record = builder.users[patient.email]
        with builder.request(clinician, "session.create", "session", 201) as audit:
            loaded = load(SessionIn(), {**body, "patient_id": str(record.id)})
            booked = scheduling.schedule(builder.session, clinician, **loaded)
            audit.resource_id, audit.patient_id = str(booked.id), record.id
        builder.booked[(patient.email, number)] = booked.id

    return run


def move(
    patient: DemoPatient, number: int, action: str, reason: str | None = None
) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[patient.clinician].email]
        session_id = builder.booked[(patient.email, number)]
        body = load(CompleteIn(), {"reason": reason}) if reason else load(EmptyIn(), {})
        with builder.request(clinician, f"session.{action}", "session") as audit:
            moved = lifecycle.move(
                builder.session, clinician, session_id, action, body.get("reason")
            )
            audit.resource_id, audit.patient_id = str(moved.id), moved.patient_id

    return run


def medication(patient: DemoPatient, number: int) -> Callable[[Builder], None]:
    def run(builder: Builder) -> None:
        clinician = builder.users[plan.CLINICIANS[patient.clinician].email]
        session_id = builder.booked[(patient.email, number)]
        body = load(MedicationTakenIn(), {})
        with builder.request(clinician, "session.medication_taken", "session") as audit:
            treatment = lifecycle.record_medication_taken(
                builder.session, clinician, session_id, body.get("taken_at")
            )
            audit.resource_id, audit.patient_id = str(treatment.id), treatment.patient_id

    return run


def note(patient: DemoPatient, number: int, body: Body) -> Callable[[Builder], None]:
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


def amend(
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


def schedule_pass(builder: Builder) -> None:
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


def urgent(patient: DemoPatient) -> Callable[[Builder], None]:
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


def review(index: int, acknowledge: bool) -> Callable[[Builder], None]:
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
