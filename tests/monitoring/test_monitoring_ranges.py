"""Value ranges of a monitoring note (clinical reference, "Value ranges"): the ends of every
range are accepted and one step beyond is refused with 422 naming the field. The ranges catch
typos; they are not clinical judgements."""

from __future__ import annotations

from typing import Any

import pytest

from telehealth.monitoring.models import SIDE_EFFECTS
from tests.monitoring.helpers import (
    adverse_event,
    assert_problem,
    count_notes,
    note_body,
    notes_url,
)

# field, lowest accepted, highest accepted, just below, just above
RANGES = [
    ("systolic", 50, 300, 49, 301),
    ("diastolic", 20, 200, 19, 201),
    ("heart_rate", 20, 300, 19, 301),
    ("spo2", 50, 100, 49, 101),
    ("respiratory_rate", 4, 80, 3, 81),
    ("temperature", 30, 45, 29.9, 45.1),
    ("sedation", 0, 5, -1, 6),
]
INTEGER_READINGS = [name for name, *_ in RANGES if name != "temperature"]

ACCEPTED = [
    pytest.param(name, value, id=f"{name}={value}")
    for name, low, high, _below, _above in RANGES
    for value in (low, high)
]
REFUSED = [
    pytest.param(name, value, id=f"{name}={value}")
    for name, _low, _high, below, above in RANGES
    for value in (below, above)
]


def reading(name: str, value: Any) -> dict[str, Any]:
    """The body fields that carry one reading: sedation is top level, the rest are vitals."""
    return {"sedation": value} if name == "sedation" else {"vitals": {name: value}}


def error_key(name: str) -> str:
    return "sedation" if name == "sedation" else f"vitals.{name}"


def post(client, world, session_id, **fields):
    return client.post(
        notes_url(session_id), headers=world.clinician.headers, json=note_body(**fields)
    )


@pytest.mark.parametrize(("name", "value"), ACCEPTED)
def test_the_ends_of_each_range_are_accepted(client, world, session_id, name, value):
    response = post(client, world, session_id, **reading(name, value))

    assert response.status_code == 201, response.get_json()
    note = response.get_json()
    stored = note["sedation"] if name == "sedation" else note["vitals"][name]
    assert stored == value


@pytest.mark.parametrize(("name", "value"), REFUSED)
def test_one_step_beyond_each_range_is_refused(client, world, session_id, name, value):
    response = post(client, world, session_id, **reading(name, value))

    assert_problem(response, 422, error_key(name))
    assert count_notes(client.application) == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("systolic", 300.5),
        ("diastolic", 200.9),
        ("heart_rate", 300.1),
        ("spo2", 100.5),
        ("respiratory_rate", 80.5),
        ("sedation", 5.5),
        ("systolic", 159.9),
        ("sedation", 2.5),
    ],
    ids=str,
)
def test_integer_readings_with_a_fraction_are_refused_not_truncated(
    client, world, session_id, name, value
):
    """300.5 is outside 50-300: truncating it to 300 would accept an out-of-range value (and
    store a reading nobody took)."""
    response = post(client, world, session_id, **reading(name, value))

    assert_problem(response, 422, error_key(name))
    assert count_notes(client.application) == 0


@pytest.mark.parametrize("name", [name for name, *_ in RANGES])
@pytest.mark.parametrize("value", ["high", True, [120], {"value": 120}, ""], ids=repr)
def test_a_reading_must_be_a_number(client, world, session_id, name, value):
    response = post(client, world, session_id, **reading(name, value))

    assert_problem(response, 422, error_key(name))


def test_temperature_keeps_one_decimal(client, world, session_id):
    response = post(client, world, session_id, vitals={"temperature": 37.4})

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["vitals"]["temperature"] == 37.4


@pytest.mark.parametrize("name", [name for name, *_ in RANGES])
def test_every_reading_may_be_null(client, world, session_id, name):
    response = post(client, world, session_id, **reading(name, None))

    assert response.status_code == 201, response.get_json()


# --- systolic above diastolic ---------------------------------------------------------------


@pytest.mark.parametrize(("systolic", "diastolic"), [(120, 120), (80, 120), (50, 50), (200, 200)])
def test_systolic_must_be_above_diastolic(client, world, session_id, systolic, diastolic):
    response = post(
        client, world, session_id, vitals={"systolic": systolic, "diastolic": diastolic}
    )

    assert_problem(response, 422, "vitals.systolic")
    assert count_notes(client.application) == 0


@pytest.mark.parametrize(("systolic", "diastolic"), [(121, 120), (50, 49), (300, 200)])
def test_systolic_just_above_diastolic_is_accepted(client, world, session_id, systolic, diastolic):
    response = post(
        client, world, session_id, vitals={"systolic": systolic, "diastolic": diastolic}
    )

    assert response.status_code == 201, response.get_json()


# --- categories ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["none", "mild", "moderate", "severe"])
def test_each_dissociation_category_is_accepted(client, world, session_id, value):
    response = post(client, world, session_id, dissociation=value)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["dissociation"] == value


@pytest.mark.parametrize("value", ["extreme", "Mild", "", "yes", 2, True])
def test_an_unknown_dissociation_is_refused(client, world, session_id, value):
    assert_problem(post(client, world, session_id, dissociation=value), 422, "dissociation")


def test_every_listed_side_effect_is_accepted(client, world, session_id):
    response = post(client, world, session_id, side_effects=list(SIDE_EFFECTS))

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["side_effects"] == list(SIDE_EFFECTS)


def test_the_side_effect_list_is_the_clinical_reference_list():
    assert set(SIDE_EFFECTS) == {
        "nausea",
        "vomiting",
        "dizziness",
        "headache",
        "blurred_vision",
        "anxiety",
        "confusion",
        "dissociation",
        "sedation",
        "elevated_blood_pressure",
        "bladder_discomfort",
        "other",
    }


@pytest.mark.parametrize(
    "value",
    [
        ["hallucinations"],
        ["blurred vision"],
        ["Nausea"],
        ["nausea", "seizure"],
        [""],
        [None],
        [3],
        "nausea",
    ],
    ids=repr,
)
def test_an_unknown_side_effect_is_refused(client, world, session_id, value):
    assert_problem(post(client, world, session_id, side_effects=value), 422, "side_effects")
    assert count_notes(client.application) == 0


@pytest.mark.parametrize("severity", ["mild", "moderate", "severe"])
def test_each_adverse_event_severity_is_accepted(client, world, session_id, severity):
    response = post(client, world, session_id, adverse_event=adverse_event(severity=severity))

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["adverse_event"]["severity"] == severity


@pytest.mark.parametrize("severity", ["critical", "life-threatening", "Severe", "", None, 3])
def test_an_unknown_adverse_event_severity_is_refused(client, world, session_id, severity):
    response = post(client, world, session_id, adverse_event=adverse_event(severity=severity))

    assert_problem(response, 422, "adverse_event.severity")
    assert count_notes(client.application) == 0


@pytest.mark.parametrize("missing", ["description", "severity", "serious", "emergency_care"])
def test_an_adverse_event_needs_its_required_fields(client, world, session_id, missing):
    event = adverse_event()
    del event[missing]

    response = post(client, world, session_id, adverse_event=event)

    assert_problem(response, 422, f"adverse_event.{missing}")


def test_action_taken_is_optional(client, world, session_id):
    with_action = adverse_event(action_taken="Monitor stayed; symptoms eased.")

    response = post(client, world, session_id, adverse_event=with_action)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["adverse_event"] == with_action


# --- unknown fields --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"mood": 5}, "mood"),
        ({"author_id": "00000000-0000-0000-0000-000000000000"}, "author_id"),
        ({"signed_at": "2026-11-21T01:00:00Z"}, "signed_at"),
        ({"amendments": []}, "amendments"),
        ({"vitals": {"pulse": 80}}, "vitals.pulse"),
        ({"vitals": {"weight": 70}}, "vitals.weight"),
        ({"adverse_event": adverse_event(reported_by="monitor")}, "adverse_event.reported_by"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_an_unknown_field_is_refused(client, world, session_id, fields, key):
    response = post(client, world, session_id, **fields)

    assert_problem(response, 422, key)
    assert count_notes(client.application) == 0
