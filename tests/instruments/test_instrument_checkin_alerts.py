"""What a check-in's answers raise: PHQ-9 item 9 above 0 a `suicidal_ideation` alert and the
crisis text, whatever the total; PHQ-9 >= 20 or GAD-7 >= 15 a `severe_score` alert; one alert
per kind per check-in, however often it is retried."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import World
from tests.instruments.scoring_helpers import (
    CHECKINS,
    PHQ9_SELF_HARM_ITEM,
    SEVERE_AT,
    alerts_of_checkin,
    answers_with_total,
    checkin_body,
    phq9_without_self_harm,
    recorded_at,
    stored_rows,
    submitted,
)

SUICIDAL = "suicidal_ideation"
SEVERE = "severe_score"


def kinds(body: dict[str, Any]) -> list[str]:
    return [alert["kind"] for alert in body["alerts"]]


def assert_alerts_stored(app: Flask, body: dict[str, Any], *expected: str) -> None:
    """The response lists exactly `expected`, once each, and they are the stored alerts."""
    assert sorted(kinds(body)) == sorted(expected), body["alerts"]
    stored = alerts_of_checkin(app, body["id"])
    assert Counter(alert.kind.value for alert in stored) == Counter(expected)
    assert {str(alert.id) for alert in stored} == {alert["id"] for alert in body["alerts"]}
    assert all(str(alert.patient_id) == body["patient_id"] for alert in stored)


def assert_crisis_message(body: dict[str, Any]) -> None:
    message = body["crisis_message"]
    assert isinstance(message, str)
    assert "988" in message
    assert "care team" in message.lower()
    assert "notified" in message.lower()


# --- PHQ-9 item 9 ---------------------------------------------------------------------------


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_item9_above_zero_raises_suicidal_ideation_at_a_minimal_total(
    app: Flask, client: FlaskClient, world: World, item9: int
) -> None:
    answers = [0] * 8 + [item9]

    body = submitted(client, world.patient, {"PHQ-9": answers})

    assert body["scores"]["PHQ-9"] == {"total": item9, "band": "minimal"}
    assert_alerts_stored(app, body, SUICIDAL)
    assert_crisis_message(body)


def test_item9_at_zero_raises_nothing_and_carries_no_crisis_message(
    app: Flask, client: FlaskClient, world: World
) -> None:
    body = submitted(client, world.patient, {"PHQ-9": [0, 0, 0, 0, 0, 0, 0, 1, 0]})

    assert body["scores"]["PHQ-9"] == {"total": 1, "band": "minimal"}
    assert body["alerts"] == []
    assert "crisis_message" not in body
    assert stored_rows(app)["safety_alerts"] == 0


def test_item9_alone_decides_even_at_a_moderately_severe_total(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """19 points on items 1-8 with item 9 at 0: neither alert."""
    body = submitted(client, world.patient, {"PHQ-9": phq9_without_self_harm(19)})
    assert body["scores"]["PHQ-9"] == {"total": 19, "band": "moderately severe"}
    assert body["alerts"] == []
    assert "crisis_message" not in body


@pytest.mark.parametrize("other", [{"GAD-7": [3] * 7}, {"PCL-5": [4] * 20}])
def test_no_crisis_message_without_item9_whatever_else_is_severe(
    client: FlaskClient, world: World, other: dict[str, list[int]]
) -> None:
    body = submitted(client, world.patient, {"PHQ-9": [0] * 9, **other})
    assert SUICIDAL not in kinds(body)
    assert "crisis_message" not in body


def test_no_crisis_message_without_any_questionnaire(client: FlaskClient, world: World) -> None:
    response = client.post(
        CHECKINS,
        json={"recorded_at": recorded_at(), "mood": 2},
        headers=world.patient.headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["scores"] == {}
    assert body["alerts"] == []
    assert "crisis_message" not in body


# --- Severe totals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "total"),
    [("PHQ-9", 19), ("PHQ-9", 20), ("PHQ-9", 24), ("GAD-7", 14), ("GAD-7", 15), ("GAD-7", 21)],
)
def test_severe_score_boundaries(
    app: Flask, client: FlaskClient, world: World, code: str, total: int
) -> None:
    answers = phq9_without_self_harm(total) if code == "PHQ-9" else answers_with_total(code, total)

    body = submitted(client, world.patient, {code: answers})

    assert body["scores"][code]["total"] == total
    expected = [SEVERE] if total >= SEVERE_AT[code] else []
    assert_alerts_stored(app, body, *expected)
    assert "crisis_message" not in body


def test_both_severe_make_one_severe_alert(app: Flask, client: FlaskClient, world: World) -> None:
    body = submitted(
        client,
        world.patient,
        {"PHQ-9": phq9_without_self_harm(20), "GAD-7": answers_with_total("GAD-7", 15)},
    )
    assert_alerts_stored(app, body, SEVERE)


def test_item9_and_severe_totals_make_one_alert_of_each_kind(
    app: Flask, client: FlaskClient, world: World
) -> None:
    body = submitted(client, world.patient, {"PHQ-9": [3] * 9, "GAD-7": [3] * 7})

    assert body["scores"]["PHQ-9"] == {"total": 27, "band": "severe"}
    assert body["scores"]["GAD-7"] == {"total": 21, "band": "severe"}
    assert_alerts_stored(app, body, SUICIDAL, SEVERE)
    assert_crisis_message(body)


def test_pcl5_alone_raises_no_alert(app: Flask, client: FlaskClient, world: World) -> None:
    body = submitted(client, world.patient, {"PCL-5": [4] * 20})
    assert body["scores"]["PCL-5"]["probable_ptsd"] is True
    assert_alerts_stored(app, body)


def test_the_difficulty_answer_is_not_item9(app: Flask, client: FlaskClient, world: World) -> None:
    """A 10th answer of 3 with item 9 at 0 raises nothing; item 9 at 1 with a 10th answer of
    0 still raises the alert."""
    quiet = submitted(client, world.patient, {"PHQ-9": [0] * 9 + [3]})
    assert_alerts_stored(app, quiet)
    assert "crisis_message" not in quiet

    answers = [0] * 10
    answers[PHQ9_SELF_HARM_ITEM - 1] = 1
    loud = submitted(client, world.patient, {"PHQ-9": answers})
    assert_alerts_stored(app, loud, SUICIDAL)
    assert_crisis_message(loud)


def test_a_retried_checkin_raises_its_alerts_once(
    app: Flask, client: FlaskClient, world: World
) -> None:
    body = checkin_body({"PHQ-9": [3] * 9, "GAD-7": [3] * 7})
    headers = {**world.patient.headers, "Idempotency-Key": "retry-alerts-1"}

    first = client.post(CHECKINS, json=body, headers=headers)
    again = client.post(CHECKINS, json=body, headers=headers)

    assert first.status_code == again.status_code == 201, first.get_data(as_text=True)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    assert stored_rows(app) == {"mood_checkins": 1, "instrument_scores": 2, "safety_alerts": 2}
    assert_alerts_stored(app, first.get_json(), SUICIDAL, SEVERE)
