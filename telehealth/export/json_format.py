"""The record as one JSON document, written piece by piece with the API's own schemas."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from telehealth.alerts.schemas import AlertOut
from telehealth.checkins.read import checkin_of
from telehealth.checkins.schemas import CheckInOut
from telehealth.export import record
from telehealth.monitoring.schemas import NoteOut
from telehealth.patients.models import Patient
from telehealth.patients.schemas import PatientOut
from telehealth.sessions.models import SessionView
from telehealth.sessions.schemas import SessionOut

FORMAT = "telehealth-record"
VERSION = 1


def _array(key: str, items: Iterable[Any], dump: Callable[[Any], Any]) -> Iterator[str]:
    yield f',"{key}":['
    for index, item in enumerate(items):
        yield ("," if index else "") + json.dumps(dump(item))
    yield "]"


def stream(session: Session, patient: Patient, exported_at: datetime) -> Iterator[str]:
    session_out, note_out = SessionOut(), NoteOut(many=True)
    head = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": exported_at.isoformat(),
        "patient": PatientOut().dump(patient),
    }
    yield json.dumps(head)[:-1]
    # Monitoring notes go beside the session's own `notes` (its free text), not over it.
    yield from _array(
        "sessions",
        record.sessions_with_notes(session, patient),
        lambda pair: {
            **session_out.dump(SessionView.of(pair[0])),
            "monitoring_notes": note_out.dump(pair[1]),
        },
    )
    checkin_out = CheckInOut()
    yield from _array(
        "checkins",
        record.checkins(session, patient),
        lambda checkin: checkin_out.dump(checkin_of(checkin)),
    )
    yield from _array("alerts", record.alerts(session, patient), AlertOut().dump)
    yield "}"
