"""The boundary of the clinical reference: the service records *that* and *when* medication was
taken, never how much. A dose field anywhere in a monitoring request is refused (422, naming
it) and nothing is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from telehealth.extensions import db
from tests.monitoring.helpers import (
    adverse_event,
    alerts,
    amendments_url,
    assert_problem,
    count_amendments,
    count_notes,
    medication_url,
    note_body,
    notes_url,
    sign_url,
    stored_note,
)

DOSE_FIELDS = ["dose", "dose_mg", "dosage"]
DOSE_VALUES = [56, "56 mg", {"amount": 56, "unit": "mg"}, None]


@pytest.mark.parametrize("field", DOSE_FIELDS)
@pytest.mark.parametrize("value", DOSE_VALUES, ids=repr)
def test_a_note_with_a_dose_is_refused(client, world, session_id, field, value):
    body = {**note_body(vitals={"spo2": 88}), field: value}  # flagged: would raise an alert

    response = client.post(notes_url(session_id), headers=world.clinician.headers, json=body)

    assert_problem(response, 422, field)
    assert count_notes(client.application) == 0
    assert alerts(client.application) == []


@pytest.mark.parametrize("field", DOSE_FIELDS)
@pytest.mark.parametrize("where", ["vitals", "adverse_event"])
def test_a_dose_nested_in_a_note_is_refused(client, world, session_id, field, where):
    nested = {"vitals": {"systolic": 120}, "adverse_event": adverse_event()}[where]
    body = note_body(**{where: {**nested, field: 56}})

    response = client.post(notes_url(session_id), headers=world.clinician.headers, json=body)

    assert_problem(response, 422, f"{where}.{field}")
    assert count_notes(client.application) == 0


@pytest.mark.parametrize("field", DOSE_FIELDS)
def test_an_amendment_with_a_dose_is_refused(client, world, note, field):
    body = {"text": "Took the prescribed medication.", "reason": "Addendum", field: 56}

    response = client.post(amendments_url(note["id"]), headers=world.clinician.headers, json=body)

    assert_problem(response, 422, field)
    assert count_amendments(client.application) == 0


@pytest.mark.parametrize("field", DOSE_FIELDS)
def test_signing_with_a_dose_is_refused(client, world, note, field):
    response = client.post(sign_url(note["id"]), headers=world.clinician.headers, json={field: 56})

    assert_problem(response, 422, field)
    assert stored_note(client.application, note["id"]).signed_at is None


def test_signing_needs_no_body(client, world, note):
    assert client.post(sign_url(note["id"]), headers=world.clinician.headers).status_code == 200


@pytest.mark.parametrize("field", DOSE_FIELDS)
def test_medication_taken_with_a_dose_is_refused(client, world, session_id, field):
    response = client.post(
        medication_url(session_id), headers=world.patient.headers, json={field: 56}
    )

    assert_problem(response, 422, field)
    session = client.get(f"/api/v1/sessions/{session_id}", headers=world.clinician.headers)
    assert session.get_json()["medication_taken_at"] is None


@pytest.mark.parametrize("table", ["monitoring_notes", "note_amendments", "adverse_events"])
def test_no_monitoring_table_has_a_column_for_a_dose(app, table):
    with app.app_context():
        columns = {column["name"] for column in inspect(db.session.connection()).get_columns(table)}
    assert columns
    assert not {name for name in columns if "dos" in name or name.endswith("_mg")}
