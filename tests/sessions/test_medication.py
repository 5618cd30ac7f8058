"""POST /api/v1/sessions/{id}/medication-taken: the care team or the patient records that, and
when, the patient took the prescribed medication; once, only while the session is in progress,
never before the session's day opens or in the future, never an amount."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.sessions.helpers import (
    PATHS_TO,
    assert_problem,
    assert_utc,
    bring_to,
    etag,
    frozen_at,
    parse,
    random_id,
    read,
    scheduled,
    session_url,
    utc,
)

NOW = utc(2026, 12, 1, 13, 10)


def taken(client, actor, session_id, body=None):
    return client.post(
        session_url(session_id, "medication-taken"), json=body or {}, headers=actor.headers
    )


@pytest.fixture
def scheduled_id(client, world):
    return scheduled(client, world.clinician, world.patient.id, "2026-12-01T13:00:00Z")["id"]


@pytest.fixture
def session_id(client, world, scheduled_id):
    """The session, started: the clinician is with the patient on the call."""
    bring_to(client, world.clinician, scheduled_id, "in_progress")
    return scheduled_id


@pytest.mark.parametrize("who", ["clinician", "patient"])
def test_the_care_team_or_the_patient_records_it_now_by_default(
    app, client, world, session_id, who
):
    tag = etag(client, world.clinician, session_id)
    with frozen_at(app, NOW, getattr(world, who)) as (actor,):
        response = taken(client, actor, session_id)

    assert response.status_code == 200, response.get_json()
    recorded = response.get_json()["medication_taken_at"]
    assert_utc(recorded)
    assert parse(recorded) == NOW
    assert read(client, world.clinician, session_id)["medication_taken_at"] == recorded
    assert response.headers["ETag"] != tag
    # Recording it is not a lifecycle move.
    assert response.get_json()["status"] == "in_progress"
    assert [t["to_status"] for t in response.get_json()["transitions"]] == ["in_progress"]


@pytest.mark.parametrize(
    ("taken_at", "expected"),
    [
        ("2026-12-01T08:05:00-05:00", utc(2026, 12, 1, 13, 5)),
        ("2026-12-01T13:14:00Z", utc(2026, 12, 1, 13, 14)),  # 4 minutes ahead: clock skew
        ("2026-12-01T13:15:00Z", utc(2026, 12, 1, 13, 15)),  # exactly the 5 minutes allowed
        # The session's day opens an hour before its scheduled start.
        ("2026-12-01T12:00:00Z", utc(2026, 12, 1, 12, 0)),
    ],
)
def test_an_explicit_time_is_stored_in_utc(app, client, world, session_id, taken_at, expected):
    with frozen_at(app, NOW, world.patient) as (patient,):
        response = taken(client, patient, session_id, {"taken_at": taken_at})

    assert response.status_code == 200, response.get_json()
    assert_utc(response.get_json()["medication_taken_at"])
    assert parse(response.get_json()["medication_taken_at"]) == expected


@pytest.mark.parametrize(
    "ahead", [timedelta(minutes=5, seconds=1), timedelta(minutes=6), timedelta(days=1)]
)
def test_a_time_beyond_the_allowed_clock_skew_is_422(app, client, world, session_id, ahead):
    with frozen_at(app, NOW, world.patient) as (patient,):
        response = taken(client, patient, session_id, {"taken_at": (NOW + ahead).isoformat()})

    assert_problem(response, 422, "taken_at")
    assert read(client, world.clinician, session_id)["medication_taken_at"] is None


@pytest.mark.parametrize(
    "taken_at", ["2026-12-01T11:59:59Z", "2026-11-30T22:00:00Z", "2000-01-01T00:00:00Z"]
)
def test_a_time_before_the_sessions_day_opens_is_422(app, client, world, session_id, taken_at):
    with frozen_at(app, NOW, world.patient) as (patient,):
        response = taken(client, patient, session_id, {"taken_at": taken_at})

    assert "12:00:00" in assert_problem(response, 422, "taken_at")["errors"]["taken_at"]
    assert read(client, world.clinician, session_id)["medication_taken_at"] is None


@pytest.mark.parametrize(
    "taken_at", ["2026-12-01T13:00:00", "2026-12-01", "soon", 1764594000, None]
)
def test_a_malformed_time_is_422(client, world, session_id, taken_at):
    response = taken(client, world.patient, session_id, {"taken_at": taken_at})

    assert_problem(response, 422, "taken_at")
    assert read(client, world.clinician, session_id)["medication_taken_at"] is None


@pytest.mark.parametrize("second_by", ["clinician", "patient"])
def test_recording_it_a_second_time_is_409_and_keeps_the_first(
    app, client, world, session_id, second_by
):
    with frozen_at(app, NOW, world.patient, getattr(world, second_by)) as (patient, second):
        first = taken(client, patient, session_id, {"taken_at": "2026-12-01T13:00:00Z"})
        assert first.status_code == 200
        tag = first.headers["ETag"]

        again = taken(client, second, session_id, {"taken_at": "2026-12-01T13:05:00Z"})

    assert_problem(again, 409)
    assert (
        read(client, world.clinician, session_id)["medication_taken_at"]
        == first.get_json()["medication_taken_at"]
    )
    assert etag(client, world.clinician, session_id) == tag


@pytest.mark.parametrize(
    ("status", "allowed"), [(status, status == "in_progress") for status in PATHS_TO]
)
def test_only_a_session_in_progress_takes_the_record(client, world, scheduled_id, status, allowed):
    """Medication on a session still scheduled (for tomorrow, say) would start a monitoring
    timeline nobody is watching: the clinician starts the session first."""
    bring_to(client, world.clinician, scheduled_id, status)
    before = read(client, world.clinician, scheduled_id)

    response = taken(client, world.patient, scheduled_id)

    if allowed:
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["medication_taken_at"] is not None
        assert response.get_json()["status"] == status
    else:
        problem = assert_problem(response, 409)
        assert status in problem["detail"]
        assert problem["session_status"] == status
        assert read(client, world.clinician, scheduled_id) == before


def test_medication_on_tomorrows_session_is_409_and_changes_nothing(client, world):
    tomorrow = scheduled(client, world.clinician, world.patient.id, "2026-12-02T13:00:00Z")

    response = taken(client, world.clinician, tomorrow["id"])

    assert_problem(response, 409)
    assert read(client, world.clinician, tomorrow["id"]) == tomorrow | {
        "updated_at": tomorrow["updated_at"]
    }


@pytest.mark.parametrize("who", ["other_patient", "other_clinician", "lone_clinician"])
def test_anyone_else_gets_404_like_a_missing_session(client, world, session_id, who):
    actor = getattr(world, who)

    foreign = taken(client, actor, session_id)
    missing = taken(client, actor, random_id())

    assert assert_problem(foreign, 404) == assert_problem(missing, 404)
    assert read(client, world.clinician, session_id)["medication_taken_at"] is None


def test_admins_may_not_record_it(client, world, session_id):
    assert_problem(taken(client, world.admin, session_id), 403)
    assert read(client, world.clinician, session_id)["medication_taken_at"] is None
