"""The session lifecycle: the status moves the rules allow (start, complete, cancel,
no-show), what a session needs before it is completed, and the record that the medication was
taken."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from telehealth.accounts.models import User
from telehealth.db import utcnow
from telehealth.errors import Conflict, UnprocessableEntity
from telehealth.monitoring.models import Checkpoint, MonitoringNote
from telehealth.outbound.models import EventType
from telehealth.sessions.models import SessionStatus, SessionTransition, TreatmentSession
from telehealth.sessions.scheduling import announce
from telehealth.sessions.service import get_care_team_session, get_session

#: The only moves the lifecycle allows: action -> (from, to).
MOVES: dict[str, tuple[SessionStatus, SessionStatus]] = {
    "start": (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS),
    "complete": (SessionStatus.IN_PROGRESS, SessionStatus.COMPLETED),
    "cancel": (SessionStatus.SCHEDULED, SessionStatus.CANCELLED),
    "no_show": (SessionStatus.SCHEDULED, SessionStatus.NO_SHOW),
}

#: Sessions that ended without treatment: nothing left to monitor or fall behind on.
CLOSED_WITHOUT_TREATMENT = (SessionStatus.CANCELLED, SessionStatus.NO_SHOW)


def _settings() -> Any:
    return current_app.config


def move(
    session: Session, actor: User, session_id: uuid.UUID, action: str, reason: str | None = None
) -> TreatmentSession:
    """Apply one lifecycle move, or refuse it (409) and change nothing."""
    current = get_care_team_session(session, actor, session_id, for_update=True)
    source, target = MOVES[action]
    if current.medication_taken_at is not None and target in CLOSED_WITHOUT_TREATMENT:
        raise Conflict(
            "The medication was taken: the patient still needs monitoring, so the session "
            f"cannot be marked {target.value}. Complete it instead (with a reason if it must "
            "end early).",
            extensions={"session_status": current.status.value},
        )
    if current.status is not source:
        raise Conflict(
            f"A {current.status.value} session cannot be moved to {target.value}.",
            # Not "status": that member of a problem is the HTTP status and would overwrite it.
            extensions={"session_status": current.status.value},
        )
    if action == "start":
        _refuse_early_or_late_start(current)
    if action == "complete":
        missing = missing_for_completion(session, current)
        if missing and reason is None:
            raise Conflict(
                "The session cannot be completed yet: "
                + "; ".join(item["detail"] for item in missing)
                + ". Record and sign what is missing, or complete it with a reason.",
                extensions={"missing": missing},
            )
        current.completion_reason = reason
    current.status = target
    current.transitions.append(
        SessionTransition(from_status=source, to_status=target, actor_id=actor.id, reason=reason)
    )
    current.updated_at = utcnow()
    session.flush()
    announce(session, current, EventType.SESSION_CHANGED)
    return current


def _refuse_early_or_late_start(current: TreatmentSession) -> None:
    now = utcnow()
    opens = current.opens_at(timedelta(minutes=_settings()["SESSION_EARLY_START_MINUTES"]))
    if now < opens:
        raise Conflict(
            f"This session starts at {current.scheduled_start:%Y-%m-%d %H:%M} UTC; it can be "
            f"started from {opens:%Y-%m-%d %H:%M} UTC.",
            extensions={"session_status": current.status.value},
        )
    if now >= current.scheduled_end:
        raise Conflict(
            f"This session's time ended at {current.scheduled_end:%Y-%m-%d %H:%M} UTC: "
            "reschedule it or mark it a no-show.",
            extensions={"session_status": current.status.value},
        )


def missing_for_completion(session: Session, current: TreatmentSession) -> list[dict[str, Any]]:
    """What the rules ask for before a session is completed and is not there: the
    end-of-session checkpoint once the medication was taken, and every note signed."""
    missing: list[dict[str, Any]] = []
    notes = session.execute(
        select(MonitoringNote.id, MonitoringNote.checkpoint, MonitoringNote.signed_at)
        .where(MonitoringNote.session_id == current.id)
        .order_by(MonitoringNote.observed_at, MonitoringNote.id)
    ).all()
    recorded = {note.checkpoint for note in notes}
    if current.medication_taken_at is not None and Checkpoint.END_OF_SESSION not in recorded:
        missing.append(
            {
                "kind": "checkpoint",
                "checkpoint": Checkpoint.END_OF_SESSION.value,
                "detail": "the end-of-session checkpoint is not recorded",
            }
        )
    missing.extend(
        {"kind": "signature", "note_id": str(note.id), "detail": f"note {note.id} is not signed"}
        for note in notes
        if note.signed_at is None
    )
    return missing


def record_medication_taken(
    session: Session, actor: User, session_id: uuid.UUID, taken_at: datetime | None
) -> TreatmentSession:
    """Record that (and when) the patient took the medication prescribed for this session.

    A fact, recorded once, while the session is in progress (the clinician is with the patient
    on the call); it starts the monitoring timeline. No amount is ever stored.
    """
    current = get_session(session, actor, session_id, for_update=True)
    config, now = _settings(), utcnow()
    taken_at = taken_at or now
    skew = timedelta(minutes=config["CLOCK_SKEW_MINUTES"])
    if taken_at > now + skew:
        raise UnprocessableEntity(
            "The medication cannot be taken in the future.",
            errors={"taken_at": "Must not be in the future."},
        )
    if current.status is not SessionStatus.IN_PROGRESS:
        raise Conflict(
            f"A {current.status.value} session takes no medication record: start the session "
            "first (the clinician is with the patient on the call).",
            extensions={"session_status": current.status.value},
        )
    if current.medication_taken_at is not None:
        raise Conflict("The medication was already recorded as taken for this session.")
    opens = current.opens_at(timedelta(minutes=config["SESSION_EARLY_START_MINUTES"]))
    if taken_at < opens:
        raise UnprocessableEntity(
            "The medication cannot be taken before the session's day opens.",
            errors={"taken_at": f"Must be at or after {opens.isoformat(timespec='seconds')}."},
        )
    last_pre_session = session.scalar(
        select(func.max(MonitoringNote.observed_at)).where(
            MonitoringNote.session_id == current.id,
            MonitoringNote.checkpoint == Checkpoint.PRE_SESSION,
        )
    )
    if last_pre_session is not None and taken_at <= last_pre_session:
        raise UnprocessableEntity(
            "The pre-session checkpoint precedes the medication.",
            errors={
                "taken_at": "Must be after the pre-session note "
                f"({last_pre_session.isoformat(timespec='seconds')})."
            },
        )
    current.medication_taken_at = taken_at
    current.medication_recorded_by_id = actor.id
    current.updated_at = now
    session.flush()
    announce(session, current, EventType.SESSION_CHANGED)
    return current
