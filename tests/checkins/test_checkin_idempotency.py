"""Idempotency-Key on POST /checkins: a phone that retries stores one check-in and raises one
alert; the retry gets the first answer back, byte for byte."""

from __future__ import annotations

import uuid

import pytest

from telehealth.alerts.models import AlertStatus, SafetyAlert
from telehealth.extensions import db
from tests.checkins.checkin_helpers import (
    API,
    CHECKINS,
    IDEMPOTENCY_KEY,
    PHQ9_ITEM9_ONE,
    PHQ9_MILD,
    REPLAYED,
    alert_rows,
    assert_problem,
    checkin_body,
    checkin_rows,
    key_rows,
    list_ids,
    post_checkin,
    read_checkin,
    score_rows,
    submitted,
    with_key,
)

pytestmark = pytest.mark.usefixtures("clock")


def new_key() -> str:
    return f"checkin-{uuid.uuid4()}"


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(app, client, world):
    key, body = new_key(), checkin_body(instruments={"PHQ-9": PHQ9_MILD}, note="Retry me")

    first = post_checkin(client, world.patient, body, key=key)
    second = post_checkin(client, world.patient, body, key=key)
    third = post_checkin(client, world.patient, body, key=key)

    assert first.status_code == 201, first.get_json()
    assert REPLAYED not in first.headers
    for retry in (second, third):
        assert retry.status_code == 201
        assert retry.headers[REPLAYED] == "true"
        assert retry.mimetype == first.mimetype == "application/json"
        assert retry.get_data() == first.get_data()
    assert checkin_rows(app, world.patient) == 1
    assert score_rows(app, world.patient) == 1
    assert key_rows(app, world.patient) == 1
    assert list_ids(client, world.patient, world.patient.id) == [first.get_json()["id"]]


def test_the_same_body_with_its_fields_in_another_order_is_the_same_request(app, client, world):
    key, body = new_key(), checkin_body(anxiety=3, sleep_hours=6.5)
    reordered = dict(reversed(list(body.items())))
    assert list(reordered) != list(body)

    first = post_checkin(client, world.patient, body, key=key)
    retry = post_checkin(client, world.patient, reordered, key=key)

    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry.headers[REPLAYED] == "true"
    assert retry.get_json() == first.get_json()
    assert checkin_rows(app, world.patient) == 1


@pytest.mark.parametrize(
    "change",
    [{"mood": 7}, {"note": "A different note"}, {"instruments": {"PHQ-9": PHQ9_ITEM9_ONE}}],
)
def test_the_same_key_with_another_body_is_refused(app, client, world, change):
    key, body = new_key(), checkin_body()
    first = submitted(client, world.patient, body, key=key)

    response = post_checkin(client, world.patient, {**body, **change}, key=key)

    assert_problem(response, 422, IDEMPOTENCY_KEY)
    assert REPLAYED not in response.headers
    assert checkin_rows(app, world.patient) == 1
    assert alert_rows(app, world.patient) == 0
    assert read_checkin(client, world.patient, first["id"])["mood"] == body["mood"]
    # The key still replays its own request afterwards.
    again = post_checkin(client, world.patient, body, key=key)
    assert again.status_code == 201
    assert again.get_json() == first


def test_keys_belong_to_the_user(app, client, world):
    key, body = new_key(), checkin_body()

    mine = post_checkin(client, world.patient, body, key=key)
    theirs = post_checkin(client, world.other_patient, body, key=key)

    assert mine.status_code == theirs.status_code == 201
    assert REPLAYED not in mine.headers
    assert REPLAYED not in theirs.headers
    assert mine.get_json()["id"] != theirs.get_json()["id"]
    assert mine.get_json()["patient_id"] == world.patient.id
    assert theirs.get_json()["patient_id"] == world.other_patient.id
    assert checkin_rows(app, world.patient) == 1
    assert checkin_rows(app, world.other_patient) == 1
    # Each user's retry replays their own first answer.
    assert post_checkin(client, world.patient, body, key=key).get_json() == mine.get_json()
    assert post_checkin(client, world.other_patient, body, key=key).get_json() == theirs.get_json()


def test_without_a_key_every_post_stores_a_check_in(app, client, world):
    body = checkin_body()

    first = submitted(client, world.patient, body)
    second = submitted(client, world.patient, body)

    assert first["id"] != second["id"]
    assert checkin_rows(app, world.patient) == 2
    assert key_rows(app, world.patient) == 0


def test_different_keys_store_different_check_ins(app, client, world):
    body = checkin_body()

    first = submitted(client, world.patient, body, key=new_key())
    second = submitted(client, world.patient, body, key=new_key())

    assert first["id"] != second["id"]
    assert checkin_rows(app, world.patient) == 2


@pytest.mark.parametrize(
    "key",
    ["has spaces", "x" * 256, "x" * 300, "", "semi;colon", "slash/key", 'quote"d'],
    ids=["spaces", "256-chars", "300-chars", "empty", "semicolon", "slash", "quote"],
)
def test_an_invalid_key_is_refused_and_stores_nothing(app, client, world, key):
    response = post_checkin(client, world.patient, checkin_body(), key=key)

    assert_problem(response, 422, IDEMPOTENCY_KEY)
    assert checkin_rows(app, world.patient) == 0
    assert key_rows(app, world.patient) == 0


@pytest.mark.parametrize("key", ["k", "x" * 255, "A-z_0.9:ok"])
def test_keys_up_to_255_letters_digits_and_punctuation_are_accepted(app, client, world, key):
    first = post_checkin(client, world.patient, checkin_body(), key=key)
    retry = post_checkin(client, world.patient, checkin_body(), key=key)

    assert first.status_code == 201, first.get_json()
    assert retry.status_code == 201
    assert retry.headers[REPLAYED] == "true"
    assert checkin_rows(app, world.patient) == 1


def test_a_refused_request_does_not_spend_its_key(app, client, world):
    key = new_key()

    refused = post_checkin(client, world.patient, checkin_body(mood=11), key=key)
    accepted = post_checkin(client, world.patient, checkin_body(mood=5), key=key)

    assert_problem(refused, 422, "mood")
    assert accepted.status_code == 201, accepted.get_json()
    assert REPLAYED not in accepted.headers
    assert checkin_rows(app, world.patient) == 1


def test_a_refused_request_is_not_replayed_as_a_success(app, client, world):
    key, bad = new_key(), checkin_body(mood=11)

    first = post_checkin(client, world.patient, bad, key=key)
    second = post_checkin(client, world.patient, bad, key=key)

    assert_problem(first, 422, "mood")
    assert_problem(second, 422, "mood")
    assert checkin_rows(app, world.patient) == 0


def test_a_role_refused_before_the_key_is_looked_at_stores_no_key(app, client, world):
    response = client.post(
        CHECKINS, json=checkin_body(), headers=with_key(world.clinician, new_key())
    )

    assert_problem(response, 403)
    assert key_rows(app, world.clinician) == 0


def test_a_retry_after_the_alert_was_acknowledged_raises_nothing_new(app, client, world):
    key, body = new_key(), checkin_body(instruments={"PHQ-9": PHQ9_ITEM9_ONE})
    first = post_checkin(client, world.patient, body, key=key)
    assert first.status_code == 201, first.get_json()
    answer = first.get_json()
    assert [alert["kind"] for alert in answer["alerts"]] == ["suicidal_ideation"]
    assert "988" in answer["crisis_message"]
    alert_id = answer["alerts"][0]["id"]
    acknowledged = client.post(
        f"{API}/alerts/{alert_id}/acknowledge",
        json={"note": "Called the patient; safety plan reviewed."},
        headers=world.clinician.headers,
    )
    assert acknowledged.status_code == 200, acknowledged.get_json()

    retry = post_checkin(client, world.patient, body, key=key)

    assert retry.status_code == 201
    assert retry.headers[REPLAYED] == "true"
    assert retry.get_data() == first.get_data()
    assert retry.get_json()["crisis_message"] == answer["crisis_message"]
    assert retry.get_json()["alerts"] == answer["alerts"]
    assert alert_rows(app, world.patient) == 1
    assert checkin_rows(app, world.patient) == 1
    with app.app_context():
        alert = db.session.get(SafetyAlert, uuid.UUID(alert_id))
        assert alert is not None
        assert alert.status is AlertStatus.ACKNOWLEDGED
        assert str(alert.acknowledged_by_id) == world.clinician.id


def test_a_retry_without_the_key_is_a_new_check_in_and_a_new_alert(app, client, world):
    """The contrast that shows the key is what keeps a retry from alerting twice."""
    body = checkin_body(instruments={"PHQ-9": PHQ9_ITEM9_ONE})

    first = submitted(client, world.patient, body, key=new_key())
    second = submitted(client, world.patient, body)

    assert first["alerts"][0]["id"] != second["alerts"][0]["id"]
    assert alert_rows(app, world.patient) == 2
