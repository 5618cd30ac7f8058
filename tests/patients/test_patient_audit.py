"""Every read or change of a patient's record leaves one audit event, whether it was allowed,
refused or invalid."""

from __future__ import annotations

import pytest

from tests.patients.helpers import (
    API,
    audit_events,
    care_team_url,
    etag,
    patient_body,
    patient_url,
    random_id,
    stored_user_by_email,
    with_if_match,
)


def only_event(app, **where):
    events = audit_events(app, **where)
    assert len(events) == 1, [(e.action, e.outcome, e.status_code) for e in events]
    return events[0]


def test_a_read_by_the_care_team_is_recorded_once(app, client, world):
    response = client.get(patient_url(world.patient.id), headers=world.clinician.headers)
    assert response.status_code == 200

    event = only_event(app, action="patient.read")
    assert str(event.patient_id) == world.patient.id
    assert str(event.actor_id) == world.clinician.id
    assert event.actor_role == "clinician"
    assert event.resource_type == "patient"
    assert event.resource_id == world.patient.id
    assert event.outcome == "success"
    assert event.status_code == 200
    assert event.request_id == response.headers["X-Request-ID"]
    assert event.occurred_at.tzinfo is not None


def test_every_read_is_recorded(app, client, world):
    for actor in (world.clinician, world.patient, world.admin):
        client.get(patient_url(world.patient.id), headers=actor.headers)

    events = audit_events(app, action="patient.read", patient_id=world.patient.id)
    assert sorted(str(event.actor_id) for event in events) == sorted(
        [world.clinician.id, world.patient.id, world.admin.id]
    )


@pytest.mark.parametrize("actor", ["other_clinician", "other_patient"])
def test_a_refused_foreign_read_is_recorded_as_denied(app, client, world, actor):
    intruder = getattr(world, actor)

    assert client.get(patient_url(world.patient.id), headers=intruder.headers).status_code == 404

    event = only_event(app, action="patient.read")
    assert str(event.patient_id) == world.patient.id
    assert str(event.actor_id) == intruder.id
    assert event.outcome == "denied"
    assert event.status_code == 404


def test_a_read_of_an_id_that_never_existed_is_recorded(app, client, world):
    missing = random_id()

    client.get(patient_url(missing), headers=world.lone_clinician.headers)

    event = only_event(app, action="patient.read", patient_id=missing)
    assert (event.outcome, event.status_code) == ("denied", 404)


def test_a_read_without_a_token_is_recorded_without_an_actor(app, client, world):
    client.get(patient_url(world.patient.id))

    event = only_event(app, action="patient.read")
    assert event.actor_id is None
    assert (event.outcome, event.status_code) == ("denied", 401)


def test_a_create_is_recorded_with_the_new_patient(app, client, world):
    created = client.post(f"{API}/patients", json=patient_body(), headers=world.clinician.headers)

    event = only_event(app, action="patient.create")
    assert str(event.patient_id) == created.get_json()["id"]
    assert event.resource_id == created.get_json()["id"]
    assert (event.outcome, event.status_code) == ("success", 201)


def test_an_invalid_create_is_recorded_as_failed_and_stores_no_patient(app, client, world):
    body = patient_body(dose="100 mg")

    assert (
        client.post(f"{API}/patients", json=body, headers=world.clinician.headers).status_code
        == 422
    )

    event = only_event(app, action="patient.create")
    assert str(event.actor_id) == world.clinician.id
    assert event.patient_id is None
    assert (event.outcome, event.status_code) == ("failed", 422)
    assert stored_user_by_email(app, body["email"]) is None


def test_a_role_refusal_is_recorded_as_denied(app, client, world):
    client.post(f"{API}/patients", json=patient_body(), headers=world.patient.headers)

    event = only_event(app, action="patient.create")
    assert str(event.actor_id) == world.patient.id
    assert (event.outcome, event.status_code) == ("denied", 403)


@pytest.mark.parametrize(
    ("body", "if_match", "status"),
    [
        ({"dose": "100 mg"}, "current", 422),
        ({"name": "New Name"}, None, 428),
        ({"name": "New Name"}, '"v0"', 412),
    ],
    ids=["invalid", "no-if-match", "stale"],
)
def test_a_failed_change_is_recorded_as_failed(app, client, world, body, if_match, status):
    headers = world.clinician.headers
    if if_match is not None:
        value = etag(client, headers, world.patient.id) if if_match == "current" else if_match
        headers = with_if_match(headers, value)

    assert (
        client.patch(patient_url(world.patient.id), json=body, headers=headers).status_code
        == status
    )

    event = only_event(app, action="patient.update")
    assert str(event.patient_id) == world.patient.id
    assert (event.outcome, event.status_code) == ("failed", status)


def test_a_change_is_recorded(app, client, world):
    headers = with_if_match(
        world.admin.headers, etag(client, world.admin.headers, world.patient.id)
    )

    client.patch(patient_url(world.patient.id), json={"name": "New Name"}, headers=headers)

    event = only_event(app, action="patient.update")
    assert str(event.actor_id) == world.admin.id
    assert (event.outcome, event.status_code) == ("success", 200)


def test_care_team_changes_are_recorded(app, client, world):
    url = care_team_url(world.patient.id, world.lone_clinician.id)

    client.put(url, headers=world.clinician.headers)
    client.delete(url, headers=world.clinician.headers)

    added = only_event(app, action="care_team.add")
    removed = only_event(app, action="care_team.remove")
    for event, status in ((added, 200), (removed, 204)):
        assert str(event.patient_id) == world.patient.id
        assert event.resource_id == world.lone_clinician.id
        assert (event.outcome, event.status_code) == ("success", status)


def test_a_refused_care_team_change_is_recorded(app, client, world):
    client.delete(
        care_team_url(world.patient.id, world.clinician.id), headers=world.clinician.headers
    )

    event = only_event(app, action="care_team.remove")
    assert (event.outcome, event.status_code) == ("failed", 409)
