"""Review flags (clinical reference, "Review flags for vital signs" and "Safety alerts"): a
flagged reading raises one `vital_sign` alert for the care team to review, a serious adverse
event one `adverse_event` alert; each trigger raises exactly one alert, and no alert ever
tells anyone what to do with medication."""

from __future__ import annotations

import uuid

import pytest

from telehealth.alerts.models import AlertKind, AlertStatus, SafetyAlert
from telehealth.extensions import db
from telehealth.monitoring.models import MonitoringNote
from telehealth.monitoring.review import review_note
from tests.monitoring.helpers import (
    MEDICATION_ADVICE,
    adverse_event,
    alerts,
    create_note,
)

# reading, value just inside the default threshold (no alert), value just beyond it (alert)
BOUNDARIES = [
    ("systolic", 159, 160),
    ("diastolic", 99, 100),
    ("heart_rate", 109, 110),  # high: >= 110
    ("heart_rate", 50, 49),  # low: < 50
    ("spo2", 92, 91),
    ("respiratory_rate", 10, 9),
    ("sedation", 3, 2),
]
CASES = [
    pytest.param(name, value, flagged, id=f"{name}={value}")
    for name, quiet, loud in BOUNDARIES
    for value, flagged in ((quiet, False), (loud, True))
]
ALL_FLAGGED = {
    "vitals": {
        "systolic": 172,
        "diastolic": 104,
        "heart_rate": 118,
        "spo2": 89,
        "respiratory_rate": 8,
    },
    "sedation": 1,
}


def reading(name, value):
    return {"sedation": value} if name == "sedation" else {"vitals": {name: value}}


def note_alerts(app, note, kind=None):
    where = {"source_id": note["id"]}
    if kind is not None:
        where["kind"] = kind
    return alerts(app, **where)


@pytest.mark.parametrize(("name", "value", "flagged"), CASES)
def test_each_threshold_boundary(client, world, session_id, name, value, flagged):
    note = create_note(client, world.clinician.headers, session_id, **reading(name, value))

    raised = alerts(client.application)  # every alert in the database, not only this note's
    if not flagged:
        assert raised == []
        return
    (alert,) = raised
    assert alert.kind is AlertKind.VITAL_SIGN
    assert alert.source_type == "monitoring_note"
    assert alert.source_id == uuid.UUID(note["id"])
    assert str(alert.patient_id) == world.patient.id
    assert alert.status is AlertStatus.OPEN
    assert name in alert.reason
    assert str(value) in alert.reason
    assert not MEDICATION_ADVICE.search(alert.reason), alert.reason


def test_readings_all_within_the_flags_raise_nothing(client, world, session_id):
    create_note(
        client,
        world.clinician.headers,
        session_id,
        vitals={
            "systolic": 159,
            "diastolic": 99,
            "heart_rate": 109,
            "spo2": 92,
            "respiratory_rate": 10,
            "temperature": 37.9,
        },
        sedation=3,
    )
    create_note(client, world.clinician.headers, session_id, vitals={"heart_rate": 50})

    assert alerts(client.application) == []


def test_several_flagged_readings_raise_one_alert_naming_each(client, world, session_id):
    note = create_note(client, world.clinician.headers, session_id, **ALL_FLAGGED)

    (alert,) = alerts(client.application)
    assert alert.kind is AlertKind.VITAL_SIGN
    assert alert.source_id == uuid.UUID(note["id"])
    for name, value in [*ALL_FLAGGED["vitals"].items(), ("sedation", 1)]:
        assert name in alert.reason
        assert str(value) in alert.reason


def test_each_note_with_a_flagged_reading_raises_its_own_alert(client, world, session_id):
    first = create_note(client, world.clinician.headers, session_id, vitals={"spo2": 88})
    second = create_note(client, world.clinician.headers, session_id, vitals={"spo2": 88})

    raised = alerts(client.application, kind=AlertKind.VITAL_SIGN)
    assert sorted(str(alert.source_id) for alert in raised) == sorted([first["id"], second["id"]])


def test_temperature_raises_no_review_flag(client, world, session_id):
    # The reference lists no temperature flag; the range ends are typos' limits only.
    create_note(client, world.clinician.headers, session_id, vitals={"temperature": 45})
    create_note(client, world.clinician.headers, session_id, vitals={"temperature": 30})

    assert alerts(client.application) == []


@pytest.mark.parametrize(
    ("setting", "limit", "fields", "flagged"),
    [
        ("systolic_at_least", 150, {"vitals": {"systolic": 150}}, True),
        ("systolic_at_least", 170, {"vitals": {"systolic": 165}}, False),
        ("spo2_below", 95, {"vitals": {"spo2": 94}}, True),
        ("sedation_at_most", 1, {"sedation": 2}, False),
    ],
)
def test_the_thresholds_are_configurable(
    client, world, session_id, monkeypatch, setting, limit, fields, flagged
):
    flags = {**client.application.config["REVIEW_FLAGS"], setting: limit}
    monkeypatch.setitem(client.application.config, "REVIEW_FLAGS", flags)

    create_note(client, world.clinician.headers, session_id, **fields)

    assert len(alerts(client.application, kind=AlertKind.VITAL_SIGN)) == int(flagged)


# --- adverse events -------------------------------------------------------------------------


@pytest.mark.parametrize("severity", ["mild", "moderate", "severe"])
def test_a_serious_adverse_event_raises_one_adverse_event_alert(
    client, world, session_id, severity
):
    event = adverse_event(severity=severity, serious=True, emergency_care=True)

    note = create_note(client, world.clinician.headers, session_id, adverse_event=event)

    (alert,) = alerts(client.application)
    assert alert.kind is AlertKind.ADVERSE_EVENT
    assert alert.source_id == uuid.UUID(note["id"])
    assert str(alert.patient_id) == world.patient.id
    assert alert.status is AlertStatus.OPEN
    assert not MEDICATION_ADVICE.search(alert.reason), alert.reason


@pytest.mark.parametrize("severity", ["mild", "moderate", "severe"])
@pytest.mark.parametrize("emergency_care", [False, True])
def test_a_non_serious_adverse_event_raises_no_alert(
    client, world, session_id, severity, emergency_care
):
    event = adverse_event(severity=severity, serious=False, emergency_care=emergency_care)

    create_note(client, world.clinician.headers, session_id, adverse_event=event)

    assert alerts(client.application) == []


def test_flagged_vitals_and_a_serious_event_raise_one_alert_of_each_kind(client, world, session_id):
    note = create_note(
        client,
        world.clinician.headers,
        session_id,
        adverse_event=adverse_event(serious=True),
        **ALL_FLAGGED,
    )

    raised = note_alerts(client.application, note)
    assert sorted(alert.kind for alert in raised) == [AlertKind.ADVERSE_EVENT, AlertKind.VITAL_SIGN]
    assert len(alerts(client.application)) == 2


def test_alert_priorities_follow_the_reference_order(client, world, session_id):
    create_note(
        client,
        world.clinician.headers,
        session_id,
        adverse_event=adverse_event(serious=True),
        **ALL_FLAGGED,
    )

    # A serious adverse event (2) comes before a vital-sign flag (4): what is happening now.
    priority = {alert.kind: alert.priority for alert in alerts(client.application)}
    assert priority == {AlertKind.ADVERSE_EVENT: 2, AlertKind.VITAL_SIGN: 4}


# --- one trigger, one alert -----------------------------------------------------------------


def _review_again(app, note_id: str) -> None:
    with app.app_context():
        stored = db.session.get(MonitoringNote, uuid.UUID(note_id))
        review_note(db.session, stored, app.config["REVIEW_FLAGS"])
        review_note(db.session, stored, app.config["REVIEW_FLAGS"])
        db.session.commit()


def test_reviewing_a_note_again_raises_no_second_alert(client, world, session_id):
    note = create_note(
        client,
        world.clinician.headers,
        session_id,
        adverse_event=adverse_event(serious=True),
        **ALL_FLAGGED,
    )
    before = {(alert.kind, alert.id) for alert in alerts(client.application)}

    _review_again(client.application, note["id"])

    after = {(alert.kind, alert.id) for alert in alerts(client.application)}
    assert after == before
    assert len(after) == 2


def test_reviewing_an_acknowledged_alert_note_again_does_not_reopen_it(client, world, session_id):
    note = create_note(client, world.clinician.headers, session_id, vitals={"heart_rate": 140})
    (alert,) = alerts(client.application)
    _acknowledge(client.application, alert.id)

    _review_again(client.application, note["id"])

    (after,) = alerts(client.application)
    assert after.id == alert.id
    assert after.status is AlertStatus.ACKNOWLEDGED


def _acknowledge(app, alert_id: uuid.UUID) -> None:
    with app.app_context():
        stored = db.session.get(SafetyAlert, alert_id)
        stored.status = AlertStatus.ACKNOWLEDGED
        db.session.commit()


# --- review only ----------------------------------------------------------------------------


def test_no_alert_reason_says_what_to_do_with_medication(client, world, session_id):
    for name, quiet, loud in BOUNDARIES:
        create_note(client, world.clinician.headers, session_id, **reading(name, loud))
        create_note(client, world.clinician.headers, session_id, **reading(name, quiet))
    create_note(
        client,
        world.clinician.headers,
        session_id,
        adverse_event=adverse_event(
            severity="severe",
            serious=True,
            description="Give the next dose later; hold medication.",
            action_taken="Change medication advised by the sitter.",
        ),
        **ALL_FLAGGED,
    )

    raised = alerts(client.application)
    assert len(raised) == len(BOUNDARIES) + 2
    for alert in raised:
        assert alert.reason.lower().startswith("review"), alert.reason
        assert not MEDICATION_ADVICE.search(alert.reason), alert.reason


@pytest.mark.parametrize(
    "text",
    ["Give 10 mg", "hold the medication", "next dose", "Change medication", "dosage", "titrate"],
)
def test_the_advice_pattern_catches_advice(text):
    # The oracle of the test above must itself work.
    assert MEDICATION_ADVICE.search(text)


@pytest.mark.parametrize("text", ["Review vital signs: spo2 89 below 92", "threshold", "holder"])
def test_the_advice_pattern_spares_review_wording(text):
    assert not MEDICATION_ADVICE.search(text)
