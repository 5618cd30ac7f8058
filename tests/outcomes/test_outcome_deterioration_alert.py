"""Deterioration as a safety trigger (clinical reference, "Safety alerts"): the check-in whose
total is at least 5 points over the baseline raises one `deterioration` alert for the care
team; a smaller rise, or the baseline itself, raises none."""

from __future__ import annotations

import pytest

from tests.outcomes.outcome_helpers import (
    alert_kinds,
    days_ago,
    now,
    read_outcomes,
    submit_totals,
)


def open_alerts(client, clinician):
    response = client.get("/api/v1/alerts", headers=clinician.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


@pytest.mark.parametrize(
    ("code", "baseline", "later", "raised"),
    [
        ("PHQ-9", 8, 13, True),
        ("PHQ-9", 8, 12, False),
        ("GAD-7", 3, 8, True),
        ("GAD-7", 3, 7, False),
        ("PCL-5", 20, 25, True),
        ("PCL-5", 20, 24, False),
    ],
)
def test_the_check_in_that_shows_deterioration_raises_the_alert(
    client, world, code, baseline, later, raised
):
    start = now()
    key = code.replace("-", "_")
    first = submit_totals(client, world.patient, days_ago(2, at=start), **{key: baseline})
    second = submit_totals(client, world.patient, days_ago(1, at=start), **{key: later})

    assert first["alerts"] == []
    assert alert_kinds(second) == ({"deterioration"} if raised else set())
    assert read_outcomes(client, world.patient, world.patient)[code]["deterioration"] is raised
    listed = open_alerts(client, world.clinician)
    if not raised:
        assert listed == []
        return
    (alert,) = listed
    assert alert["id"] == second["alerts"][0]["id"]
    assert alert["kind"] == "deterioration"
    assert alert["patient_id"] == world.patient.id
    assert alert["source_type"] == "checkin"
    assert alert["source_id"] == second["id"]
    assert code in alert["reason"]
    assert str(baseline) in alert["reason"]
    assert str(later) in alert["reason"]


def test_every_check_in_over_the_line_raises_its_own_alert(client, world):
    start = now()
    submit_totals(client, world.patient, days_ago(4, at=start), PHQ_9=8)
    one = submit_totals(client, world.patient, days_ago(3, at=start), PHQ_9=13)
    quiet = submit_totals(client, world.patient, days_ago(2, at=start), PHQ_9=12)
    two = submit_totals(client, world.patient, days_ago(1, at=start), PHQ_9=14)

    assert alert_kinds(one) == alert_kinds(two) == {"deterioration"}
    assert quiet["alerts"] == []
    listed = open_alerts(client, world.clinician)
    assert [alert["source_id"] for alert in listed] == [one["id"], two["id"]]


def test_a_gradual_rise_is_measured_from_baseline_not_the_last_score(client, world):
    start = now()
    submit_totals(client, world.patient, days_ago(4, at=start), PHQ_9=6)
    steps = [
        submit_totals(client, world.patient, days_ago(3 - i, at=start), PHQ_9=total)
        for i, total in enumerate((8, 10, 11))
    ]

    assert [alert_kinds(step) for step in steps] == [set(), set(), {"deterioration"}]


def test_several_instruments_worse_in_one_check_in_raise_one_alert(client, world):
    start = now()
    submit_totals(client, world.patient, days_ago(2, at=start), PHQ_9=5, GAD_7=2, PCL_5=10)
    worse = submit_totals(client, world.patient, days_ago(1, at=start), PHQ_9=11, GAD_7=8, PCL_5=40)

    assert [alert["kind"] for alert in worse["alerts"]] == ["deterioration"]
    (alert,) = open_alerts(client, world.clinician)
    assert all(code in alert["reason"] for code in ("PHQ-9", "GAD-7", "PCL-5"))


def test_improvement_raises_nothing(client, world):
    start = now()
    submit_totals(client, world.patient, days_ago(2, at=start), PHQ_9=18, GAD_7=14)
    better = submit_totals(client, world.patient, days_ago(1, at=start), PHQ_9=4, GAD_7=2)

    assert better["alerts"] == []
    assert open_alerts(client, world.clinician) == []


def test_a_retried_submission_raises_no_second_alert(client, world):
    start = now()
    submit_totals(client, world.patient, days_ago(2, at=start), PHQ_9=8)
    body = {
        "recorded_at": days_ago(1, at=start).isoformat(),
        "mood": 4,
        "instruments": {"PHQ-9": [2, 2, 2, 2, 2, 2, 1, 0, 0]},  # 13
    }
    headers = {**world.patient.headers, "Idempotency-Key": "deterioration-retry-1"}

    first = client.post("/api/v1/checkins", headers=headers, json=body)
    again = client.post("/api/v1/checkins", headers=headers, json=body)

    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    (alert,) = open_alerts(client, world.clinician)
    assert alert["id"] == first.get_json()["alerts"][0]["id"]
