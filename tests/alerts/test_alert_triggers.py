"""What raises a safety alert (clinical reference, "Safety alerts"): PHQ-9 item 9 above 0,
PHQ-9 >= 20 or GAD-7 >= 15, deterioration, a vital-sign review flag, a serious adverse event.
Each trigger creates exactly one alert, and no alert says what to do with medication."""

from __future__ import annotations

import uuid

import pytest

from telehealth.alerts.models import AlertKind, AlertStatus
from tests.alerts.alert_helpers import (
    KINDS,
    MEDICATION_ADVICE,
    PRIORITY,
    add_note,
    list_all,
    minutes_ago,
    open_session,
    raise_directly,
    serious_adverse_event_note,
    severe_score,
    stored_alerts,
    suicidal_ideation,
    vital_sign_note,
)
from tests.outcomes.outcome_helpers import alert_kinds, gad7, pcl5, phq9, submit


def only_alert(client, world, **where):
    """The one alert stored (optionally of these attributes), checked against the list."""
    (alert,) = stored_alerts(client.application, **where)
    assert alert.status is AlertStatus.OPEN
    assert alert.priority == PRIORITY[alert.kind.value]
    assert not MEDICATION_ADVICE.search(alert.reason), alert.reason
    (listed,) = [a for a in list_all(client, world.clinician.headers) if a["id"] == str(alert.id)]
    assert listed["kind"] == alert.kind.value
    assert listed["patient_id"] == world.patient.id
    assert listed["status"] == "open"
    assert listed["acknowledged_by"] is None
    assert listed["acknowledged_at"] is None
    assert listed["note"] is None
    return alert


# --- check-ins ------------------------------------------------------------------------------


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item_9_above_zero_raises_suicidal_ideation(client, world, item9):
    submitted = submit(client, world.patient, minutes_ago(), PHQ_9=phq9(item9, item9=item9))

    assert [a["kind"] for a in submitted["alerts"]] == ["suicidal_ideation"]
    alert = only_alert(client, world)
    assert alert.kind is AlertKind.SUICIDAL_IDEATION
    assert str(alert.id) == submitted["alerts"][0]["id"]
    assert alert.source_type == "checkin"
    assert str(alert.source_id) == submitted["id"]
    assert str(item9) in alert.reason


def test_suicidal_ideation_answers_with_crisis_text(client, world):
    submitted = suicidal_ideation(client, world.patient)

    message = submitted["crisis_message"]
    assert "988" in message
    assert "911" in message
    assert "notified" in message.lower()


def test_item_9_at_zero_raises_nothing_even_with_a_high_total(client, world):
    submitted = submit(client, world.patient, minutes_ago(), PHQ_9=phq9(19))

    assert submitted["alerts"] == []
    assert "crisis_message" not in submitted
    assert stored_alerts(client.application) == []


def test_the_optional_tenth_phq9_answer_is_not_item_9(client, world):
    """The difficulty question comes after item 9; a 3 there is no self-harm answer."""
    submitted = submit(client, world.patient, minutes_ago(), PHQ_9=[*phq9(4), 3])

    assert submitted["alerts"] == []


@pytest.mark.parametrize(
    ("instruments", "severe"),
    [
        ({"PHQ_9": phq9(19)}, False),
        ({"PHQ_9": phq9(20)}, True),
        ({"PHQ_9": phq9(24)}, True),
        ({"GAD_7": gad7(14)}, False),
        ({"GAD_7": gad7(15)}, True),
        ({"GAD_7": gad7(21)}, True),
        ({"PCL_5": pcl5(80)}, False),  # PCL-5 has no severe-score trigger
        ({"PHQ_9": phq9(19), "GAD_7": gad7(14)}, False),
    ],
    ids=["phq19", "phq20", "phq24", "gad14", "gad15", "gad21", "pcl80", "phq19+gad14"],
)
def test_severe_score_thresholds(client, world, instruments, severe):
    submitted = submit(client, world.patient, minutes_ago(), **instruments)

    assert alert_kinds(submitted) == ({"severe_score"} if severe else set())
    if severe:
        alert = only_alert(client, world, kind=AlertKind.SEVERE_SCORE)
        assert str(alert.source_id) == submitted["id"]
    else:
        assert stored_alerts(client.application) == []


def test_both_severe_scores_in_one_check_in_raise_one_alert(client, world):
    submitted = submit(client, world.patient, minutes_ago(), PHQ_9=phq9(20), GAD_7=gad7(15))

    assert [a["kind"] for a in submitted["alerts"]] == ["severe_score"]
    alert = only_alert(client, world)
    assert "PHQ-9" in alert.reason
    assert "GAD-7" in alert.reason


def test_one_check_in_can_raise_several_kinds_once_each(client, world):
    submitted = submit(client, world.patient, minutes_ago(), PHQ_9=phq9(21, item9=2))

    assert sorted(alert_kinds(submitted)) == ["severe_score", "suicidal_ideation"]
    assert len(submitted["alerts"]) == 2
    rows = stored_alerts(client.application, source_id=submitted["id"])
    assert sorted(row.kind.value for row in rows) == ["severe_score", "suicidal_ideation"]
    assert submitted["crisis_message"]


def test_a_check_in_without_triggers_raises_nothing(client, world):
    submitted = submit(
        client, world.patient, minutes_ago(), PHQ_9=phq9(9), GAD_7=gad7(9), PCL_5=pcl5(40)
    )

    assert submitted["alerts"] == []
    assert list_all(client, world.clinician.headers) == []


def test_deterioration_raises_its_alert(client, world):
    submit(client, world.patient, minutes_ago(10), PHQ_9=phq9(8))
    worse = submit(client, world.patient, minutes_ago(5), PHQ_9=phq9(13))

    assert [a["kind"] for a in worse["alerts"]] == ["deterioration"]
    alert = only_alert(client, world)
    assert alert.kind is AlertKind.DETERIORATION
    assert str(alert.source_id) == worse["id"]


def test_a_retried_check_in_raises_no_second_alert(client, world):
    body = {
        "recorded_at": minutes_ago().isoformat(),
        "mood": 2,
        "instruments": {"PHQ-9": phq9(21, item9=1)},
    }
    headers = {**world.patient.headers, "Idempotency-Key": "retry-suicidal-ideation"}

    responses = [client.post("/api/v1/checkins", headers=headers, json=body) for _ in range(3)]

    assert [r.status_code for r in responses] == [201, 201, 201]
    assert all(r.get_json() == responses[0].get_json() for r in responses)
    rows = stored_alerts(client.application)
    assert sorted(row.kind.value for row in rows) == ["severe_score", "suicidal_ideation"]


def test_an_alert_belongs_to_the_submitting_patient(client, world):
    suicidal_ideation(client, world.other_patient)

    (alert,) = stored_alerts(client.application)
    assert str(alert.patient_id) == world.other_patient.id
    assert list_all(client, world.clinician.headers) == []
    assert [a["id"] for a in list_all(client, world.other_clinician.headers)] == [str(alert.id)]


# --- monitoring notes -----------------------------------------------------------------------


def test_a_flagged_vital_sign_raises_one_vital_sign_alert(client, world):
    session_id = open_session(client, world.clinician, world.patient)

    note = vital_sign_note(client, world.clinician.headers, session_id)

    alert = only_alert(client, world)
    assert alert.kind is AlertKind.VITAL_SIGN
    assert alert.source_type == "monitoring_note"
    assert str(alert.source_id) == note["id"]
    assert "170" in alert.reason


def test_several_flagged_readings_in_one_note_raise_one_alert(client, world):
    session_id = open_session(client, world.clinician, world.patient)

    add_note(
        client,
        world.clinician.headers,
        session_id,
        vitals={"systolic": 182, "diastolic": 110, "heart_rate": 120, "spo2": 88},
        sedation=2,
    )

    alert = only_alert(client, world)
    assert alert.kind is AlertKind.VITAL_SIGN


def test_unflagged_vitals_raise_nothing(client, world):
    session_id = open_session(client, world.clinician, world.patient)

    add_note(
        client,
        world.clinician.headers,
        session_id,
        vitals={"systolic": 159, "diastolic": 99, "heart_rate": 80, "spo2": 97},
    )

    assert stored_alerts(client.application) == []


def test_a_serious_adverse_event_raises_one_alert(client, world):
    session_id = open_session(client, world.clinician, world.patient)

    note = serious_adverse_event_note(client, world.clinician.headers, session_id)

    alert = only_alert(client, world)
    assert alert.kind is AlertKind.ADVERSE_EVENT
    assert alert.source_type == "monitoring_note"
    assert str(alert.source_id) == note["id"]


def test_a_non_serious_adverse_event_raises_nothing(client, world):
    session_id = open_session(client, world.clinician, world.patient)

    serious_adverse_event_note(client, world.clinician.headers, session_id, serious=False)

    assert stored_alerts(client.application) == []


def test_a_note_with_both_triggers_raises_one_alert_of_each(client, world):
    session_id = open_session(client, world.clinician, world.patient)

    note = add_note(
        client,
        world.clinician.headers,
        session_id,
        vitals={"systolic": 170, "diastolic": 90},
        adverse_event={
            "description": "Chest pain.",
            "severity": "severe",
            "serious": True,
            "emergency_care": True,
        },
    )

    rows = stored_alerts(client.application, source_id=note["id"])
    assert sorted(row.kind.value for row in rows) == ["adverse_event", "vital_sign"]


# --- raise_alert itself ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(AlertKind), ids=KINDS)
def test_raising_the_same_trigger_twice_leaves_one_row(client, world, kind):
    source = uuid.uuid4()

    first = raise_directly(client.application, world.patient.id, kind, source_id=source)
    second = raise_directly(client.application, world.patient.id, kind, source_id=source)

    assert first == second
    (row,) = stored_alerts(client.application)
    assert str(row.id) == first
    assert row.kind is kind
    assert row.priority == PRIORITY[kind.value]


def test_the_same_source_with_another_kind_is_another_alert(client, world):
    source = uuid.uuid4()

    one = raise_directly(
        client.application, world.patient.id, AlertKind.VITAL_SIGN, source_id=source
    )
    two = raise_directly(
        client.application, world.patient.id, AlertKind.ADVERSE_EVENT, source_id=source
    )

    assert one != two
    assert len(stored_alerts(client.application, source_id=source)) == 2


def test_raising_again_does_not_reopen_an_acknowledged_alert(client, world):
    source = uuid.uuid4()
    alert_id = raise_directly(
        client.application, world.patient.id, AlertKind.VITAL_SIGN, source_id=source
    )
    response = client.post(
        f"/api/v1/alerts/{alert_id}/acknowledge",
        headers=world.clinician.headers,
        json={"note": "Called the patient."},
    )
    assert response.status_code == 200, response.get_json()

    again = raise_directly(
        client.application, world.patient.id, AlertKind.VITAL_SIGN, source_id=source
    )

    assert again == alert_id
    (row,) = stored_alerts(client.application)
    assert row.status is AlertStatus.ACKNOWLEDGED
    assert row.note == "Called the patient."


# --- wording --------------------------------------------------------------------------------


def test_no_alert_reason_gives_medication_advice(client, world):
    """Every kind raised through the API: the reasons say "review", never give/hold/dose."""
    submit(client, world.patient, minutes_ago(30), PHQ_9=phq9(4))
    submit(client, world.patient, minutes_ago(20), PHQ_9=phq9(21, item9=1), GAD_7=gad7(15))
    severe_score(client, world.patient)
    session_id = open_session(client, world.clinician, world.patient)
    vital_sign_note(client, world.clinician.headers, session_id)
    serious_adverse_event_note(client, world.clinician.headers, session_id)

    listed = list_all(client, world.clinician.headers)

    assert {a["kind"] for a in listed} == set(KINDS) - {"checkpoint_overdue", "missed_checkins"}
    for alert in listed:
        assert alert["reason"], alert
        assert not MEDICATION_ADVICE.search(alert["reason"]), alert["reason"]
