"""Who may export a record, and the audit trail every export attempt leaves: the patient, their
care team and admins read it; another patient and clinicians outside the care team get the
same 404 as a record that does not exist; no token is 401; an unknown format is 422. Each
attempt writes exactly one `patient.export` audit event."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.export.export_helpers import export_events, exporting
from tests.problems import PROBLEM_JSON, assert_problem

FORMATS = ["json", "fhir"]


def one_new_event(app: Flask, patient_id: str, before: int) -> Any:
    events = export_events(app, patient_id)
    assert len(events) == before + 1, [(e.actor_id, e.status_code) for e in events]
    return events[-1]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("reader", ["patient", "clinician", "admin"])
def test_the_patient_their_care_team_and_admins_export_the_record(
    app: Flask, client: FlaskClient, world: Any, reader: str, fmt: str
) -> None:
    actor = getattr(world, reader)
    before = len(export_events(app, world.patient.id))
    with exporting(client, actor, world.patient.id, format=fmt) as response:
        assert response.status_code == 200
        assert world.patient.id in response.get_data(as_text=True)

    event = one_new_event(app, world.patient.id, before)
    assert (event.action, event.resource_type) == ("patient.export", "patient")
    assert str(event.actor_id) == actor.id
    assert event.actor_role == actor.user.role.value
    assert (event.outcome, event.status_code) == ("success", 200)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("reader", ["other_patient", "other_clinician", "lone_clinician"])
def test_anyone_else_gets_the_404_of_a_record_that_does_not_exist(
    app: Flask, client: FlaskClient, world: Any, reader: str, fmt: str
) -> None:
    actor = getattr(world, reader)
    before = len(export_events(app, world.patient.id))
    with exporting(client, actor, world.patient.id, format=fmt) as response:
        refused = assert_problem(response, 404)
        refused_headers = _comparable_headers(response.headers)
    missing_id = str(uuid.uuid4())
    with exporting(client, actor, missing_id, format=fmt) as response:
        missing = assert_problem(response, 404)
        missing_headers = _comparable_headers(response.headers)

    assert refused == missing
    assert refused_headers == missing_headers
    assert world.patient.id not in str(refused)

    event = one_new_event(app, world.patient.id, before)
    assert str(event.actor_id) == actor.id
    assert (event.outcome, event.status_code) == ("denied", 404)
    assert len(export_events(app, missing_id)) == 1


def _comparable_headers(headers: Any) -> dict[str, str]:
    """Response headers, less the per-request id."""
    return {key: value for key, value in headers.items() if key.lower() != "x-request-id"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_token_is_401(app: Flask, client: FlaskClient, world: Any, fmt: str) -> None:
    before = len(export_events(app, world.patient.id))
    with exporting(client, None, world.patient.id, format=fmt) as response:
        body = assert_problem(response, 401)
    assert world.patient.id not in str(body)
    event = one_new_event(app, world.patient.id, before)
    assert event.actor_id is None
    assert (event.outcome, event.status_code) == ("denied", 401)


@pytest.mark.parametrize("fmt", ["xml", "FHIR", "csv", ""])
def test_an_unknown_format_is_422(app: Flask, client: FlaskClient, world: Any, fmt: str) -> None:
    before = len(export_events(app, world.patient.id))
    with exporting(client, world.patient, world.patient.id, format=fmt) as response:
        assert response.mimetype == PROBLEM_JSON
        assert_problem(response, 422, "format")
    event = one_new_event(app, world.patient.id, before)
    assert (event.outcome, event.status_code) == ("failed", 422)


def test_a_clinician_removed_from_the_care_team_can_no_longer_export(
    app: Flask, client: FlaskClient, world: Any
) -> None:
    url = f"/api/v1/patients/{world.patient.id}/care-team/{world.lone_clinician.id}"
    added = client.put(url, headers=world.clinician.headers)
    assert added.status_code == 200, added.get_json()
    with exporting(client, world.lone_clinician, world.patient.id) as response:
        assert response.status_code == 200
    removed = client.delete(url, headers=world.clinician.headers)
    assert removed.status_code in (200, 204), removed.get_json()
    with exporting(client, world.lone_clinician, world.patient.id) as response:
        assert_problem(response, 404)
    outcomes = [(e.status_code, e.outcome) for e in export_events(app, world.patient.id)]
    assert outcomes == [(200, "success"), (404, "denied")]
