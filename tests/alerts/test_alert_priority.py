"""Priority (clinical reference, "Safety alerts"): what is happening now, around a dose at home,
before trends: suicidal ideation 1, adverse event 2, overdue checkpoint 3, vital sign 4, severe
score 5, deterioration 6, missed check-ins 7. The list serves the most urgent first."""

from __future__ import annotations

import pytest

from telehealth.alerts.models import AlertKind
from tests.alerts.alert_helpers import (
    KINDS,
    PRIORITY,
    list_all,
    minutes_ago,
    open_session,
    raise_directly,
    serious_adverse_event_note,
    stored_alerts,
)
from tests.outcomes.outcome_helpers import phq9, submit
from tests.problems import parse


@pytest.mark.parametrize(("kind", "priority"), list(PRIORITY.items()))
def test_each_kind_has_the_priority_of_the_reference_table(kind, priority):
    assert AlertKind(kind).priority == priority


def test_every_kind_has_a_priority_and_no_two_share_one():
    assert set(KINDS) == set(PRIORITY)
    assert sorted(kind.priority for kind in AlertKind) == list(range(1, len(AlertKind) + 1))


@pytest.mark.parametrize("kind", list(AlertKind), ids=KINDS)
def test_a_raised_alert_is_stored_and_listed_with_its_kinds_priority(client, world, kind):
    alert_id = raise_directly(client.application, world.patient.id, kind)

    (row,) = stored_alerts(client.application)
    (listed,) = list_all(client, world.clinician.headers)
    assert row.priority == PRIORITY[kind.value]
    assert (listed["id"], listed["priority"]) == (alert_id, PRIORITY[kind.value])


def test_a_serious_adverse_event_ranks_above_deterioration_and_a_severe_score(client, world):
    """The adverse event (with emergency care) is raised last, yet listed first: a patient in
    trouble after a dose at home comes before a PHQ-9 trend, however old the trend's alert."""
    submit(client, world.patient, minutes_ago(20), PHQ_9=phq9(8))  # the baseline
    worse = submit(client, world.patient, minutes_ago(10), PHQ_9=phq9(20))
    assert sorted(alert["kind"] for alert in worse["alerts"]) == ["deterioration", "severe_score"]
    session_id = open_session(client, world.clinician, world.patient)
    note = serious_adverse_event_note(client, world.clinician.headers, session_id)

    listed = list_all(client, world.clinician.headers)

    assert [a["kind"] for a in listed] == ["adverse_event", "severe_score", "deterioration"]
    assert [a["priority"] for a in listed] == [2, 5, 6]
    assert listed[0]["source"] == {"type": "monitoring_note", "id": note["id"]}
    assert note["adverse_event"]["emergency_care"] is True
    assert parse(listed[0]["created_at"]) > parse(listed[1]["created_at"])
