"""The dosing boundary: the service stores no dose amounts. Every write endpoint of sessions
refuses a dose field (422, naming it) and changes nothing, even when the rest of the request is
valid and would otherwise succeed."""

from __future__ import annotations

import pytest

from tests.sessions.helpers import (
    CANCEL_REASON,
    SESSIONS,
    assert_problem,
    bring_to,
    count_sessions,
    etag,
    read,
    scheduled,
    session_body,
    session_url,
)

DOSE_FIELDS = ["dose", "dose_mg", "dosage"]


def create(client, world, session_id, extra):
    body = session_body(world.patient.id, scheduled_start="2026-12-05T13:00:00Z")
    return client.post(SESSIONS, json={**body, **extra}, headers=world.clinician.headers)


def reschedule(client, world, session_id, extra):
    tag = etag(client, world.clinician, session_id)
    return client.patch(
        session_url(session_id),
        json={"scheduled_start": "2026-12-05T13:00:00Z", **extra},
        headers={**world.clinician.headers, "If-Match": tag},
    )


def mover(action, valid_body, actor="clinician"):
    def post(client, world, session_id, extra):
        return client.post(
            session_url(session_id, action),
            json={**valid_body, **extra},
            headers=getattr(world, actor).headers,
        )

    return post


# endpoint -> (status the session must be in for the request to succeed without the dose
# field, the request).
ENDPOINTS = {
    "POST /sessions": ("scheduled", create),
    "PATCH /sessions/{id}": ("scheduled", reschedule),
    "POST start": ("scheduled", mover("start", {})),
    "POST complete": ("in_progress", mover("complete", {})),
    "POST cancel": ("scheduled", mover("cancel", {"reason": CANCEL_REASON})),
    "POST no-show": ("scheduled", mover("no-show", {})),
    "POST medication-taken (clinician)": ("in_progress", mover("medication-taken", {})),
    "POST medication-taken (patient)": (
        "in_progress",
        mover("medication-taken", {"taken_at": "2026-12-01T12:15:00Z"}, actor="patient"),
    ),
}


@pytest.fixture
def session_id(client, world):
    return scheduled(client, world.clinician, world.patient.id, "2026-12-01T13:00:00Z")["id"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_without_a_dose_field_the_request_succeeds(app, client, world, session_id, endpoint):
    """The control: the requests below fail because of the dose field and nothing else."""
    status, send = ENDPOINTS[endpoint]
    bring_to(client, world.clinician, session_id, status)

    response = send(client, world, session_id, {})

    assert response.status_code in (200, 201), response.get_json()


@pytest.mark.parametrize("value", [50, "50 mg", 0, None])
@pytest.mark.parametrize("field", DOSE_FIELDS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_dose_field_is_refused_and_nothing_changes(
    app, client, world, session_id, endpoint, field, value
):
    status, send = ENDPOINTS[endpoint]
    bring_to(client, world.clinician, session_id, status)
    before = read(client, world.clinician, session_id)
    tag = etag(client, world.clinician, session_id)

    response = send(client, world, session_id, {field: value})

    body = assert_problem(response, 422, field)
    assert list(body["errors"]) == [field]
    assert read(client, world.clinician, session_id) == before
    assert etag(client, world.clinician, session_id) == tag
    assert count_sessions(app) == 1


@pytest.mark.parametrize("field", DOSE_FIELDS)
def test_a_dose_nested_in_the_treatment_monitor_is_refused(app, client, world, field):
    body = session_body(world.patient.id)
    body["treatment_monitor"][field] = 50

    response = client.post(SESSIONS, json=body, headers=world.clinician.headers)

    assert_problem(response, 422, f"treatment_monitor.{field}")
    assert count_sessions(app) == 0


def test_no_dose_appears_in_a_session_or_the_openapi_document(client, world, session_id):
    session = read(client, world.clinician, session_id)
    spec = client.get("/openapi.json").get_data(as_text=True).lower()

    assert not any("dos" in key for key in session)
    assert '"dose' not in spec
    assert '"dosage' not in spec
