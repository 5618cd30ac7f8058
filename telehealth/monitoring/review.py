"""Review flags: readings the care team should look at. They raise an alert; nothing more."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from telehealth.alerts.models import AlertKind, AlertSource
from telehealth.alerts.service import raise_alerts, triggers
from telehealth.monitoring.models import MonitoringNote

NOTE_SOURCE = AlertSource.MONITORING_NOTE


def vital_sign_flags(note: MonitoringNote, thresholds: Mapping[str, Any]) -> list[str]:
    """Why each flagged reading is flagged, in words (empty when nothing is)."""
    checks = [
        ("systolic", note.systolic, "at_least"),
        ("diastolic", note.diastolic, "at_least"),
        ("heart_rate", note.heart_rate, "at_least"),
        ("heart_rate", note.heart_rate, "below"),
        ("spo2", note.spo2, "below"),
        ("respiratory_rate", note.respiratory_rate, "below"),
        ("sedation", note.sedation, "at_most"),
    ]
    flags = []
    for name, value, rule in checks:
        limit = thresholds[f"{name}_{rule}"]
        if value is None:
            continue
        if (
            (rule == "at_least" and value >= limit)
            or (rule == "below" and value < limit)
            or (rule == "at_most" and value <= limit)
        ):
            flags.append(f"{name} {value} {rule.replace('_', ' ')} {limit}")
    return flags


def review_note(session: Session, note: MonitoringNote, thresholds: Mapping[str, Any]) -> None:
    """Raise the alerts a note calls for: one for flagged vital signs, one for a serious
    adverse event. Each is keyed to the note, so it is raised once, and names its session."""
    found: list[tuple[AlertKind, str]] = []
    flags = vital_sign_flags(note, thresholds)
    if flags:
        found.append((AlertKind.VITAL_SIGN, "Review vital signs: " + "; ".join(flags)))
    if note.adverse_event is not None and note.adverse_event.serious:
        severity = note.adverse_event.severity.value
        found.append((AlertKind.ADVERSE_EVENT, f"Review a serious adverse event ({severity})."))
    raise_alerts(
        session,
        triggers(note.patient_id, NOTE_SOURCE, note.id, found, session_id=note.session_id),
    )
