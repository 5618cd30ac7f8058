"""Session reminders: to the patient and the clinician, `SESSION_REMINDER_HOURS` (24 and 1)
before a scheduled session, each once."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from telehealth.db import utcnow
from telehealth.outbound.events import Event, emit_all
from telehealth.outbound.models import EventType
from telehealth.sessions.models import SessionReminder, SessionStatus, TreatmentSession

INSERT_ONCE = {
    "postgresql": postgresql.insert(SessionReminder).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(SessionReminder).on_conflict_do_nothing(),
}


def send_session_reminders(session: Session) -> int:
    """Remind of each scheduled session whose reminder time has come. A reminder whose time
    had already passed when the session was booked is skipped (a session booked an hour ahead
    gets no "tomorrow" reminder). The reminder row is claimed with INSERT ... ON CONFLICT DO
    NOTHING, so of several workers one sends it. How many were sent."""
    now = utcnow()
    dialect = session.get_bind().dialect.name
    reminders: list[Event] = []
    for hours in current_app.config["SESSION_REMINDER_HOURS"]:
        ahead = timedelta(hours=hours)
        due = session.scalars(
            select(TreatmentSession).where(
                TreatmentSession.status == SessionStatus.SCHEDULED,
                TreatmentSession.scheduled_start > now,
                TreatmentSession.scheduled_start <= now + ahead,
                ~select(SessionReminder.session_id)
                .where(
                    SessionReminder.session_id == TreatmentSession.id,
                    SessionReminder.hours_before == hours,
                )
                .exists(),
            )
        ).all()
        for treatment in due:
            if treatment.created_at > treatment.scheduled_start - ahead:
                continue  # booked after its reminder time
            claimed = session.execute(
                INSERT_ONCE[dialect].returning(SessionReminder.session_id),
                [{"session_id": treatment.id, "hours_before": hours, "sent_at": now}],
            ).first()
            if claimed is None:
                continue
            reminders.append(
                Event(
                    EventType.SESSION_REMINDER,
                    {
                        "session_id": treatment.id,
                        "patient_id": treatment.patient_id,
                        "scheduled_start": treatment.scheduled_start,
                        "hours_before": hours,
                    },
                    [treatment.patient_id, treatment.clinician_id],
                )
            )
    return len(emit_all(session, reminders))
