"""Helpers of the export tests: a rich record built through the API, reading an export (always
closing the streamed body), walking a FHIR Bundle, and every identifier a record leaves behind,
read straight from the database."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from telehealth.alerts.models import SafetyAlert
from telehealth.audit.models import AuditEvent
from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.export.fhir_format.codes import derived_id
from telehealth.extensions import db
from telehealth.monitoring.models import AdverseEvent, MonitoringNote
from telehealth.patients.models import CareTeamMember
from telehealth.sessions.models import TreatmentSession
from tests.factories import Actor, sign_in
from tests.outcomes.outcome_helpers import gad7, pcl5, phq9

API = "/api/v1"
FHIR_JSON = "application/fhir+json"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
VITAL_CATEGORY = "vital-signs"
SURVEY_CATEGORY = "survey"

#: LOINC codes of the single-valued vital signs, by the API's vitals field.
VITAL_LOINC = {
    "heart_rate": "8867-4",
    "spo2": "59408-5",
    "respiratory_rate": "9279-1",
    "temperature": "8310-5",
}
BP_PANEL, SYSTOLIC, DIASTOLIC = "85354-9", "8480-6", "8462-4"
TOTAL_LOINC = {"PHQ-9": "44261-6", "GAD-7": "70274-6"}


def export_url(patient_id: str) -> str:
    return f"{API}/patients/{patient_id}/export"


def rfc3339(moment: datetime) -> str:
    return moment.isoformat()


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


# --- reading an export ----------------------------------------------------------------------


@dataclass
class Exported:
    """What an export answered, read whole and with the streamed body closed."""

    status: int
    mimetype: str
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


@contextmanager
def exporting(
    client: FlaskClient, actor: Actor | None, patient_id: str, **query: str
) -> Iterator[TestResponse]:
    """GET the export as `actor` (None: no token); the response, closed afterwards so the
    streamed body's database session is released."""
    headers = actor.headers if actor is not None else {}
    with client.get(export_url(patient_id), headers=headers, query_string=query) as response:
        yield response


def export(client: FlaskClient, actor: Actor | None, patient_id: str, **query: str) -> Exported:
    with exporting(client, actor, patient_id, **query) as response:
        return Exported(
            status=response.status_code,
            mimetype=response.mimetype,
            headers=dict(response.headers),
            text=response.get_data(as_text=True),
        )


def exported_ok(client: FlaskClient, actor: Actor, patient_id: str, **query: str) -> Exported:
    result = export(client, actor, patient_id, **query)
    assert result.status == 200, result.text
    return result


# --- building a record through the API ------------------------------------------------------


def _post(client: FlaskClient, actor: Actor, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{API}{url}", headers=actor.headers, json=body)
    assert response.status_code in (200, 201), (url, response.get_json())
    return response.get_json()  # type: ignore[no-any-return]


@dataclass
class Record:
    """What `build_record` made, as the API answered it."""

    patient: Actor
    clinician: Actor
    marker: str
    completed: dict[str, Any] = field(default_factory=dict)
    cancelled: dict[str, Any] = field(default_factory=dict)
    cancel_reason: str = ""
    completion_reason: str = ""
    notes: list[dict[str, Any]] = field(default_factory=list)
    signed_note_id: str = ""
    adverse_event_note_id: str = ""
    amendments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    checkins: list[dict[str, Any]] = field(default_factory=list)
    #: The answers each check-in was submitted with, by instrument.
    answers: list[dict[str, list[int]]] = field(default_factory=list)
    acknowledged_alert_id: str = ""

    @property
    def session_ids(self) -> set[str]:
        return {self.completed["id"], self.cancelled["id"]}

    @property
    def note_ids(self) -> set[str]:
        return {note["id"] for note in self.notes}

    @property
    def amendment_ids(self) -> set[str]:
        return {a["id"] for items in self.amendments.values() for a in items}

    @property
    def checkin_ids(self) -> set[str]:
        return {checkin["id"] for checkin in self.checkins}

    @property
    def scores(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(check-in id, instrument, score) of every questionnaire answered."""
        return [
            (checkin["id"], code, score)
            for checkin in self.checkins
            for code, score in checkin["scores"].items()
        ]

    def note(self, note_id: str) -> dict[str, Any]:
        (found,) = [note for note in self.notes if note["id"] == note_id]
        return found


def _vitals(offset: int) -> dict[str, Any]:
    """Every vital sign, in range and below every review flag; `offset` keeps notes apart."""
    return {
        "systolic": 120 + offset,
        "diastolic": 70 + offset,
        "heart_rate": 70 + offset,
        "spo2": 99 - offset,
        "respiratory_rate": 12 + offset,
        "temperature": 36.5 + offset / 10,
    }


def build_record(
    client: FlaskClient, clinician: Actor, patient: Actor, marker: str, days_ahead: int = 7
) -> Record:
    """A rich record: a session day walked as a clinic walks it (started, pre-session note,
    medication, +40 min note with a serious adverse event, end-of-session note; one note
    signed, amendments; completed with a reason, since two notes stay unsigned); a second
    session cancelled with a reason; three check-ins covering PHQ-9 (item 9 above 0), GAD-7
    and PCL-5; the suicidal-ideation alert acknowledged. `marker` goes into every free text."""
    record = Record(patient=patient, clinician=clinician, marker=marker)
    start = (datetime.now(UTC) + timedelta(days=days_ahead)).replace(
        hour=13, minute=0, second=0, microsecond=0
    )

    def session_at(moment: datetime) -> dict[str, Any]:
        return _post(
            client,
            clinician,
            "/sessions",
            {
                "patient_id": patient.id,
                "scheduled_start": rfc3339(moment),
                "duration_minutes": 120,
                "modality": "video",
                "treatment_monitor": {"name": f"Sitter {marker}", "phone": "+1 555 0142"},
                "notes": f"Session notes {marker}",
            },
        )

    completed = session_at(start)
    cancelled = session_at(start + timedelta(days=1))
    sid = completed["id"]
    note_bodies = [
        {
            "checkpoint": "pre_session",
            "observed_at": rfc3339(start - timedelta(minutes=2)),
            "vitals": _vitals(0),
            "sedation": 5,
            "dissociation": "none",
            "text": f"Pre-session: calm, monitor present. {marker}",
        },
        {
            "checkpoint": "plus_40_min",
            "observed_at": rfc3339(start + timedelta(minutes=40)),
            "vitals": _vitals(2),
            "sedation": 4,
            "dissociation": "moderate",
            "side_effects": ["nausea", "dizziness"],
            "adverse_event": {
                "description": f"Fainted briefly; ambulance called. {marker}",
                "severity": "severe",
                "serious": True,
                "emergency_care": True,
                "action_taken": "Care team called emergency services.",
            },
            "text": f"+40 min: adverse event, see the report. {marker}",
        },
        {
            "checkpoint": "end_of_session",
            "observed_at": rfc3339(start + timedelta(minutes=120)),
            "vitals": _vitals(4),
            "sedation": 5,
            "dissociation": "none",
            "text": f"End of session: alert and oriented, handed over. {marker}",
        },
    ]
    record.completion_reason = f"Patient taken to emergency care after the event. {marker}"
    with time_machine.travel(start - timedelta(minutes=5), tick=False) as clock:
        on_the_day = sign_in(client.application, clinician.user)
        _post(client, on_the_day, f"/sessions/{sid}/start", {})
        clock.move_to(start - timedelta(minutes=1))
        record.notes = [_post(client, on_the_day, f"/sessions/{sid}/notes", note_bodies[0])]
        _post(client, on_the_day, f"/sessions/{sid}/medication-taken", {"taken_at": rfc3339(start)})
        for body in note_bodies[1:]:
            clock.move_to(datetime.fromisoformat(body["observed_at"]) + timedelta(minutes=1))
            on_the_day = sign_in(client.application, clinician.user)
            record.notes.append(_post(client, on_the_day, f"/sessions/{sid}/notes", body))
        record.signed_note_id = record.notes[0]["id"]
        record.adverse_event_note_id = record.notes[1]["id"]
        _post(client, on_the_day, f"/notes/{record.signed_note_id}/sign", {})
        for note_id, count in ((record.signed_note_id, 2), (record.adverse_event_note_id, 1)):
            record.amendments[note_id] = [
                _post(
                    client,
                    on_the_day,
                    f"/notes/{note_id}/amendments",
                    {"text": f"Addendum {n} {marker}", "reason": f"Late entry {n} {marker}"},
                )
                for n in range(1, count + 1)
            ]
        _post(client, on_the_day, f"/sessions/{sid}/complete", {"reason": record.completion_reason})
    record.cancel_reason = f"Patient is travelling. {marker}"
    _post(
        client, clinician, f"/sessions/{cancelled['id']}/cancel", {"reason": record.cancel_reason}
    )
    record.completed = _get(client, clinician, f"/sessions/{sid}")
    record.cancelled = _get(client, clinician, f"/sessions/{cancelled['id']}")

    checkin_bodies: list[dict[str, Any]] = [
        {
            "recorded_at": rfc3339(ago(days=3)),
            "mood": 3,
            "anxiety": 7,
            "sleep_hours": 5.5,
            "note": f"Rough week. {marker}",
            "instruments": {"PHQ-9": phq9(12, item9=1), "GAD-7": gad7(8), "PCL-5": pcl5(40)},
        },
        {
            "recorded_at": rfc3339(ago(days=2)),
            "mood": 6,
            "instruments": {"PHQ-9": phq9(8), "GAD-7": gad7(4)},
        },
        {"recorded_at": rfc3339(ago(days=1)), "mood": 7, "note": f"Better. {marker}"},
    ]
    record.checkins = [_post(client, patient, "/checkins", body) for body in checkin_bodies]
    record.answers = [body.get("instruments", {}) for body in checkin_bodies]
    (suicidal,) = [a for a in record.checkins[0]["alerts"] if a["kind"] == "suicidal_ideation"]
    record.acknowledged_alert_id = suicidal["id"]
    _post(
        client,
        clinician,
        f"/alerts/{suicidal['id']}/acknowledge",
        {"note": f"Called the patient; safe. {marker}"},
    )
    return record


def _get(client: FlaskClient, actor: Actor, url: str) -> dict[str, Any]:
    response = client.get(f"{API}{url}", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


# --- what the database holds ----------------------------------------------------------------


def stored_alerts(app: Flask, patient_id: str) -> list[SafetyAlert]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(SafetyAlert).where(SafetyAlert.patient_id == uuid.UUID(patient_id))
            )
        )


def score_ids(app: Flask, patient_id: str) -> dict[tuple[str, str], str]:
    """InstrumentScore ids by (check-in id, instrument)."""
    with app.app_context():
        rows = db.session.execute(
            select(
                InstrumentScore.checkin_id, InstrumentScore.instrument, InstrumentScore.id
            ).where(InstrumentScore.patient_id == uuid.UUID(patient_id))
        )
        return {(str(c), code): str(i) for c, code, i in rows}


def adverse_event_ids(app: Flask, patient_id: str) -> dict[str, str]:
    """AdverseEvent ids by note id."""
    with app.app_context():
        rows = db.session.execute(
            select(AdverseEvent.note_id, AdverseEvent.id)
            .join(MonitoringNote)
            .where(MonitoringNote.patient_id == uuid.UUID(patient_id))
        )
        return {str(note_id): str(event_id) for note_id, event_id in rows}


def export_events(app: Flask, patient_id: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.action == "patient.export",
                    AuditEvent.patient_id == uuid.UUID(patient_id),
                )
                .order_by(AuditEvent.sequence)
            )
        )


def identifiers(app: Flask, patient_id: str) -> set[str]:
    """Every id, derived FHIR id and contact detail the database holds for this patient, and
    for clinicians who are on this patient's care team or wrote in their record."""
    pid = uuid.UUID(patient_id)
    found: set[uuid.UUID] = {pid, derived_id(pid, "care-team")}
    texts: set[str] = set()
    with app.app_context():
        session = db.session
        for treatment in session.scalars(
            select(TreatmentSession).where(TreatmentSession.patient_id == pid)
        ):
            found |= {treatment.id, derived_id(treatment.id, "encounter")}
            found.add(derived_id(treatment.id, "treatment-monitor"))
            found |= {transition.id for transition in treatment.transitions}
            if treatment.medication_taken_at is not None:
                found.add(derived_id(treatment.id, "medication-taken"))
        for note in session.scalars(select(MonitoringNote).where(MonitoringNote.patient_id == pid)):
            found.add(note.id)
            found |= {derived_id(note.id, name) for name in ("blood-pressure", *VITAL_LOINC)}
            if note.sedation is not None:
                found.add(derived_id(note.id, "sedation"))
            if note.dissociation is not None:
                found.add(derived_id(note.id, "dissociation"))
            found |= {derived_id(note.id, f"side-effect:{name}") for name in note.side_effects}
            found |= {amendment.id for amendment in note.amendments}
            if note.adverse_event is not None:
                found.add(note.adverse_event.id)
            texts.add(note.text)
        for checkin in session.scalars(select(MoodCheckIn).where(MoodCheckIn.patient_id == pid)):
            found.add(checkin.id)
            for score in checkin.scores:
                found |= {score.id, derived_id(score.id, "total")}
        found |= set(session.scalars(select(SafetyAlert.id).where(SafetyAlert.patient_id == pid)))
    return {str(value) for value in found} | texts


def user_identifiers(actor: Actor) -> set[str]:
    return {actor.id, actor.user.email, actor.user.name}


def care_team(app: Flask, patient_id: str) -> set[str]:
    with app.app_context():
        return {
            str(clinician_id)
            for clinician_id in db.session.scalars(
                select(CareTeamMember.clinician_id).where(
                    CareTeamMember.patient_id == uuid.UUID(patient_id)
                )
            )
        }


# --- walking a FHIR Bundle ------------------------------------------------------------------


def resources(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == resource_type
    ]


def codes(concept: dict[str, Any] | None, system: str) -> set[str]:
    return {c["code"] for c in (concept or {}).get("coding", []) if c.get("system") == system}


def category_codes(resource: dict[str, Any]) -> set[str]:
    return {c["code"] for concept in resource.get("category", []) for c in concept["coding"]}


def references(node: Any) -> Iterator[str]:
    """Every `reference` value anywhere in a resource."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)
