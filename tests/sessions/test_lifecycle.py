"""POST /api/v1/sessions/{id}/start, /complete, /cancel, /no-show: the only moves are
scheduled -> in_progress -> completed and scheduled -> cancelled or no_show; every move is
recorded (who, when, from, to, why); every other move is 409 and changes nothing."""

from __future__ import annotations

import pytest

from tests.factories import make_user
from tests.sessions.helpers import (
    ACTIONS,
    API,
    CANCEL_REASON,
    PATHS_TO,
    act,
    assert_problem,
    assert_utc,
    bring_to,
    etag,
    frozen_at,
    random_id,
    read,
    scheduled,
    session_url,
    utc,
)

ALLOWED = {
    ("scheduled", "start"): "in_progress",
    ("in_progress", "complete"): "completed",
    ("scheduled", "cancel"): "cancelled",
    ("scheduled", "no-show"): "no_show",
}
TABLE = [(status, action) for status in PATHS_TO for action in ACTIONS]


def test_the_table_covers_every_status_and_action():
    assert len(TABLE) == 20
    assert set(ALLOWED) < set(TABLE)


@pytest.mark.parametrize(("status", "action"), TABLE)
def test_every_move_from_every_status(app, client, world, status, action):
    # Set up an hour before the move, on a running clock, so earlier moves come first.
    with frozen_at(app, utc(2026, 12, 1, 12, 5), world.clinician, tick=True) as (clinician,):
        session_id = scheduled(client, clinician, world.patient.id)["id"]
        before = bring_to(client, clinician, session_id, status)
        tag_before = etag(client, clinician, session_id)

    with frozen_at(app, utc(2026, 12, 1, 13, 5), world.clinician) as (clinician,):
        response = act(client, clinician, session_id, action)

    after = read(client, world.clinician, session_id)
    if (status, action) in ALLOWED:
        target = ALLOWED[(status, action)]
        assert response.status_code == 200, response.get_json()
        assert response.get_json() == after
        assert after["status"] == target
        assert after["transitions"][:-1] == before["transitions"]
        assert after["transitions"][-1] == {
            "from_status": status,
            "to_status": target,
            "actor_id": world.clinician.id,
            "occurred_at": after["transitions"][-1]["occurred_at"],
            "reason": CANCEL_REASON if action == "cancel" else None,
        }
        assert_utc(after["transitions"][-1]["occurred_at"])
        assert after["transitions"][-1]["occurred_at"].startswith("2026-12-01T13:05:00")
        assert response.headers["ETag"] != tag_before
        assert etag(client, world.clinician, session_id) == response.headers["ETag"]
    else:
        body = assert_problem(response, 409)
        assert status in body["detail"]
        assert body["session_status"] == status
        assert after == before
        assert etag(client, world.clinician, session_id) == tag_before


def test_a_full_session_records_its_whole_history_in_order(client, world):
    session_id = scheduled(client, world.clinician, world.patient.id)["id"]

    act(client, world.clinician, session_id, "start")
    finished = act(client, world.clinician, session_id, "complete").get_json()

    moves = [(t["from_status"], t["to_status"]) for t in finished["transitions"]]
    assert moves == [("scheduled", "in_progress"), ("in_progress", "completed")]
    first, second = finished["transitions"]
    assert first["occurred_at"] <= second["occurred_at"]
    # The patient sees the same history.
    assert read(client, world.patient, session_id)["transitions"] == finished["transitions"]


def test_any_care_team_clinician_may_move_and_is_recorded_as_the_actor(client, world):
    session_id = scheduled(client, world.clinician, world.patient.id)["id"]
    added = client.put(
        f"{API}/patients/{world.patient.id}/care-team/{world.other_clinician.id}",
        headers=world.clinician.headers,
    )
    assert added.status_code == 200

    response = act(client, world.other_clinician, session_id, "no-show")

    assert response.status_code == 200, response.get_json()
    (transition,) = response.get_json()["transitions"]
    assert transition["actor_id"] == world.other_clinician.id
    assert response.get_json()["clinician_id"] == world.clinician.id


# Cancelling needs a reason


@pytest.mark.parametrize(
    "body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": None}, {"reason": "x" * 501}]
)
def test_cancelling_without_a_proper_reason_is_422(client, world, body):
    session_id = scheduled(client, world.clinician, world.patient.id)["id"]

    response = act(client, world.clinician, session_id, "cancel", body)

    assert_problem(response, 422, "reason")
    after = read(client, world.clinician, session_id)
    assert after["status"] == "scheduled"
    assert after["transitions"] == []


def test_the_cancel_reason_is_stored_trimmed(client, world):
    session_id = scheduled(client, world.clinician, world.patient.id)["id"]

    response = act(client, world.clinician, session_id, "cancel", {"reason": "  Unwell today. "})

    assert response.get_json()["transitions"][0]["reason"] == "Unwell today."


@pytest.mark.parametrize("action", ["start", "no-show"])
def test_moves_without_a_reason_take_no_fields(client, world, action):
    session_id = scheduled(client, world.clinician, world.patient.id)["id"]
    before = read(client, world.clinician, session_id)

    response = act(client, world.clinician, session_id, action, {"reason": "because"})

    assert_problem(response, 422, "reason")
    assert read(client, world.clinician, session_id) == before


@pytest.mark.parametrize(
    "body", [{"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}, {"why": "x"}]
)
def test_a_completion_reason_that_is_empty_or_too_long_is_422(client, world, body):
    session_id = scheduled(client, world.clinician, world.patient.id)["id"]
    bring_to(client, world.clinician, session_id, "in_progress")
    before = read(client, world.clinician, session_id)

    response = act(client, world.clinician, session_id, "complete", body)

    assert_problem(response, 422, next(iter(body)))
    assert read(client, world.clinician, session_id) == before


# Who may move a session


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("who", ["patient", "other_patient", "admin"])
def test_patients_and_admins_may_not_move_sessions(client, world, action, who):
    session_id = scheduled(client, world.clinician, world.patient.id)["id"]
    if action == "complete":
        bring_to(client, world.clinician, session_id, "in_progress")
    before = read(client, world.clinician, session_id)

    response = act(client, getattr(world, who), session_id, action)

    assert_problem(response, 403)
    assert read(client, world.clinician, session_id) == before


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("who", ["other_clinician", "lone_clinician"])
def test_clinicians_outside_the_care_team_get_404_like_a_missing_session(
    client, world, action, who
):
    session_id = scheduled(client, world.clinician, world.patient.id)["id"]
    if action == "complete":
        bring_to(client, world.clinician, session_id, "in_progress")
    before = read(client, world.clinician, session_id)
    actor = getattr(world, who)

    foreign = act(client, actor, session_id, action)
    missing = act(client, actor, random_id(), action)

    assert assert_problem(foreign, 404) == assert_problem(missing, 404)
    assert read(client, world.clinician, session_id) == before


def test_a_clinician_removed_from_the_care_team_loses_the_session(app, client, world):
    session_id = scheduled(client, world.clinician, world.patient.id)["id"]
    replacement = make_user(app, world.clinician.user.role, name="Dr. Next")
    team = f"{API}/patients/{world.patient.id}/care-team"
    assert client.put(f"{team}/{replacement.id}", headers=world.admin.headers).status_code == 200
    removed = client.delete(f"{team}/{world.clinician.id}", headers=world.admin.headers)
    assert removed.status_code == 204

    assert_problem(act(client, world.clinician, session_id, "start"), 404)
    assert_problem(client.get(session_url(session_id), headers=world.clinician.headers), 404)
