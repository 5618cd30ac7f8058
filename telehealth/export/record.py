"""Reading one patient's record in batches, so an export of years of daily check-ins streams
in bounded memory. Every query here is filtered by the one patient id it is given."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from telehealth.accounts.models import User
from telehealth.alerts.models import SafetyAlert
from telehealth.checkins.models import MoodCheckIn
from telehealth.monitoring.models import MonitoringNote, NoteAmendment
from telehealth.patients.models import Patient
from telehealth.sessions.models import TreatmentSession

BATCH = 500
T = TypeVar("T")


def batched(items: Iterator[T] | Iterable[T], size: int) -> Iterator[list[T]]:
    """itertools.batched, which arrives in Python 3.12."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def sessions_with_notes(
    session: Session, patient: Patient
) -> Iterator[tuple[TreatmentSession, list[MonitoringNote]]]:
    sessions = session.scalars(
        select(TreatmentSession)
        .where(TreatmentSession.patient_id == patient.id)
        .options(selectinload(TreatmentSession.transitions))
        .order_by(TreatmentSession.scheduled_start, TreatmentSession.id)
        .execution_options(yield_per=BATCH)
    )
    for chunk in batched(sessions, 100):
        notes: dict[uuid.UUID, list[MonitoringNote]] = {s.id: [] for s in chunk}
        for note in session.scalars(
            select(MonitoringNote)
            .where(
                MonitoringNote.patient_id == patient.id,
                MonitoringNote.session_id.in_(list(notes)),
            )
            .order_by(MonitoringNote.observed_at, MonitoringNote.id)
        ):
            notes[note.session_id].append(note)
        for treatment in chunk:
            yield treatment, notes[treatment.id]


def checkins(session: Session, patient: Patient) -> Iterator[MoodCheckIn]:
    yield from session.scalars(
        select(MoodCheckIn)
        .where(MoodCheckIn.patient_id == patient.id)
        .options(selectinload(MoodCheckIn.scores))
        .order_by(MoodCheckIn.recorded_at, MoodCheckIn.id)
        .execution_options(yield_per=BATCH)
    )


def alerts(session: Session, patient: Patient) -> Iterator[SafetyAlert]:
    yield from session.scalars(
        select(SafetyAlert)
        .where(SafetyAlert.patient_id == patient.id)
        .order_by(SafetyAlert.created_at, SafetyAlert.id)
        .execution_options(yield_per=BATCH)
    )


def practitioners(session: Session, patient: Patient) -> list[User]:
    """Clinicians the record names: the care team, session clinicians, note and amendment
    authors."""
    named = (
        select(TreatmentSession.clinician_id)
        .where(TreatmentSession.patient_id == patient.id)
        .union(
            select(MonitoringNote.author_id).where(MonitoringNote.patient_id == patient.id),
            select(NoteAmendment.author_id)
            .join(MonitoringNote)
            .where(MonitoringNote.patient_id == patient.id),
        )
    )
    team = {member.clinician_id for member in patient.care_team}
    ids = team | set(session.scalars(named))
    if not ids:
        return []
    return list(session.scalars(select(User).where(User.id.in_(ids)).order_by(User.name)))
