"""PATCH /api/v1/sessions/{id}: a care-team clinician reschedules or edits a scheduled session,
proving with If-Match that they saw its current version, under the same overlap rule."""

from __future__ import annotations

import pytest

from tests.factories import make_patient
from tests.sessions.helpers import (
    API,
    PATHS_TO,
    act,
    assert_problem,
    assert_utc,
    bring_to,
    etag,
    patch,
    random_id,
    read,
    schedule,
    scheduled,
)


@pytest.fixture
def booked(client, world):
    """A session of world.patient with world.clinician, 2026-12-01 13:00-15:00 UTC."""
    return scheduled(client, world.clinician, world.patient.id, "2026-12-01T13:00:00Z", 120)


def test_rescheduling_moves_start_and_end_and_the_etag(client, world, booked):
    tag = etag(client, world.clinician, booked["id"])

    response = patch(
        client,
        world.clinician,
        booked["id"],
        {"scheduled_start": "2026-12-03T10:00:00+01:00", "duration_minutes": 90},
        tag,
    )

    assert response.status_code == 200, response.get_json()
    changed = response.get_json()
    assert changed["scheduled_start"].startswith("2026-12-03T09:00:00")
    assert_utc(changed["scheduled_start"])
    assert changed["scheduled_start_local"] == "2026-12-03T04:00:00-05:00"
    assert changed["scheduled_end"].startswith("2026-12-03T10:30:00")
    assert changed["duration_minutes"] == 90
    assert changed["status"] == "scheduled"
    assert response.headers["ETag"] != tag
    assert etag(client, world.clinician, booked["id"]) == response.headers["ETag"]
    assert read(client, world.patient, booked["id"]) == changed


def test_changing_only_the_duration_moves_the_end(client, world, booked):
    tag = etag(client, world.clinician, booked["id"])

    changed = patch(client, world.clinician, booked["id"], {"duration_minutes": 45}, tag)

    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["scheduled_start"] == booked["scheduled_start"]
    assert changed.get_json()["scheduled_end"].startswith("2026-12-01T13:45:00")


def test_changing_only_the_start_keeps_the_duration(client, world, booked):
    tag = etag(client, world.clinician, booked["id"])

    changed = patch(
        client, world.clinician, booked["id"], {"scheduled_start": "2026-12-01T18:00:00Z"}, tag
    )

    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["duration_minutes"] == 120
    assert changed.get_json()["scheduled_end"].startswith("2026-12-01T20:00:00")


def test_other_fields_can_be_edited(client, world, booked):
    tag = etag(client, world.clinician, booked["id"])
    changes = {
        "modality": "phone",
        "treatment_monitor": {"name": "Ria Relative", "phone": "+1 555 0142"},
        "notes": None,
    }

    response = patch(client, world.clinician, booked["id"], changes, tag)

    assert response.status_code == 200, response.get_json()
    changed = response.get_json()
    assert changed["modality"] == "phone"
    assert changed["treatment_monitor"] == {"name": "Ria Relative", "phone": "+1 555 0142"}
    assert changed["notes"] is None
    assert changed["scheduled_start"] == booked["scheduled_start"]
    assert changed["scheduled_end"] == booked["scheduled_end"]


# If-Match


def test_without_if_match_a_patch_is_428_and_changes_nothing(client, world, booked):
    before = read(client, world.clinician, booked["id"])

    response = patch(client, world.clinician, booked["id"], {"duration_minutes": 60})

    assert_problem(response, 428)
    assert read(client, world.clinician, booked["id"]) == before


# Issue 18: `*` matches any version, so it proves nothing about the one read: as if missing.
def test_if_match_star_is_428_and_changes_nothing(client, world, booked):
    before = read(client, world.clinician, booked["id"])

    response = patch(client, world.clinician, booked["id"], {"duration_minutes": 60}, "*")

    assert_problem(response, 428)
    assert read(client, world.clinician, booked["id"]) == before


# A new session is at "v1"; If-Match compares strongly, so a weak W/"v1" does not match.
@pytest.mark.parametrize("stale", ['"v0"', '"v2"', '"something else"', "v1x", 'W/"v1"'])
def test_a_wrong_if_match_is_412_and_changes_nothing(client, world, booked, stale):
    before = read(client, world.clinician, booked["id"])
    assert etag(client, world.clinician, booked["id"]) != stale

    response = patch(client, world.clinician, booked["id"], {"duration_minutes": 60}, stale)

    assert_problem(response, 412)
    assert read(client, world.clinician, booked["id"]) == before


def test_an_etag_goes_stale_after_any_change(client, world, booked):
    first = etag(client, world.clinician, booked["id"])
    assert patch(client, world.clinician, booked["id"], {"notes": "a"}, first).status_code == 200

    # Re-sending the ETag that was read before the change loses against it.
    response = patch(client, world.clinician, booked["id"], {"notes": "b"}, first)

    assert_problem(response, 412)
    assert read(client, world.clinician, booked["id"])["notes"] == "a"


def test_a_lifecycle_move_makes_the_etag_stale(client, world, booked):
    before_move = etag(client, world.clinician, booked["id"])
    act(client, world.clinician, booked["id"], "start")

    response = patch(client, world.clinician, booked["id"], {"notes": "late"}, before_move)

    assert_problem(response, 412)


def test_if_match_may_list_several_etags(client, world, booked):
    tag = etag(client, world.clinician, booked["id"])

    response = patch(client, world.clinician, booked["id"], {"notes": "x"}, f'"v0", {tag}')

    assert response.status_code == 200, response.get_json()


def test_the_etag_returned_by_a_patch_is_good_for_the_next(client, world, booked):
    tag = etag(client, world.clinician, booked["id"])
    first = patch(client, world.clinician, booked["id"], {"notes": "one"}, tag)

    second = patch(client, world.clinician, booked["id"], {"notes": "two"}, first.headers["ETag"])

    assert second.status_code == 200, second.get_json()
    assert second.get_json()["notes"] == "two"


# Only a scheduled session can be changed


@pytest.mark.parametrize("status", [s for s in PATHS_TO if s != "scheduled"])
def test_a_session_that_is_no_longer_scheduled_cannot_be_changed(client, world, booked, status):
    bring_to(client, world.clinician, booked["id"], status)
    before = read(client, world.clinician, booked["id"])
    tag = etag(client, world.clinician, booked["id"])

    response = patch(
        client, world.clinician, booked["id"], {"scheduled_start": "2026-12-05T13:00:00Z"}, tag
    )

    assert status in assert_problem(response, 409)["detail"]
    assert read(client, world.clinician, booked["id"]) == before
    assert etag(client, world.clinician, booked["id"]) == tag


# The overlap rule


def test_moving_onto_another_session_of_the_clinician_is_409(app, client, world, booked):
    second_patient = str(make_patient(app, world.clinician.user, name="Quinn Second").id)
    other = scheduled(client, world.clinician, second_patient, "2026-12-02T13:00:00Z", 60)
    tag = etag(client, world.clinician, other["id"])

    response = patch(
        client, world.clinician, other["id"], {"scheduled_start": "2026-12-01T14:00:00Z"}, tag
    )

    assert assert_problem(response, 409)["conflicting_session_id"] == booked["id"]
    assert read(client, world.clinician, other["id"])["scheduled_start"] == other["scheduled_start"]
    assert etag(client, world.clinician, other["id"]) == tag


def test_lengthening_into_the_patients_next_session_is_409(client, world, booked):
    client.put(
        f"{API}/patients/{world.patient.id}/care-team/{world.other_clinician.id}",
        headers=world.clinician.headers,
    )
    later = scheduled(client, world.other_clinician, world.patient.id, "2026-12-01T16:00:00Z", 60)
    tag = etag(client, world.clinician, booked["id"])

    too_long = patch(client, world.clinician, booked["id"], {"duration_minutes": 181}, tag)
    just_fits = patch(client, world.clinician, booked["id"], {"duration_minutes": 180}, tag)

    assert assert_problem(too_long, 409)["conflicting_session_id"] == later["id"]
    assert just_fits.status_code == 200, just_fits.get_json()
    assert just_fits.get_json()["scheduled_end"] == later["scheduled_start"]


def test_a_session_does_not_conflict_with_itself(client, world, booked):
    tag = etag(client, world.clinician, booked["id"])

    # Half an hour later still overlaps the session's own old slot.
    response = patch(
        client, world.clinician, booked["id"], {"scheduled_start": "2026-12-01T13:30:00Z"}, tag
    )

    assert response.status_code == 200, response.get_json()


def test_the_old_slot_is_free_after_rescheduling(client, world, booked):
    tag = etag(client, world.clinician, booked["id"])
    moved = patch(
        client, world.clinician, booked["id"], {"scheduled_start": "2026-12-08T13:00:00Z"}, tag
    )
    assert moved.status_code == 200

    response = schedule(client, world.clinician, world.patient.id, "2026-12-01T13:00:00Z")

    assert response.status_code == 201, response.get_json()


def test_moving_onto_a_cancelled_session_is_allowed(app, client, world, booked):
    act(client, world.clinician, booked["id"], "cancel")
    second = scheduled(client, world.clinician, world.patient.id, "2026-12-02T13:00:00Z")
    tag = etag(client, world.clinician, second["id"])

    response = patch(
        client, world.clinician, second["id"], {"scheduled_start": "2026-12-01T13:00:00Z"}, tag
    )

    assert response.status_code == 200, response.get_json()


# Validation: a PATCH changes the schedule, never who, whose or the status


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"scheduled_start": "2026-12-01T14:00:00"}, "scheduled_start"),
        ({"scheduled_start": None}, "scheduled_start"),
        ({"duration_minutes": 14}, "duration_minutes"),
        ({"duration_minutes": 481}, "duration_minutes"),
        ({"duration_minutes": 60.5}, "duration_minutes"),
        ({"modality": "carrier pigeon"}, "modality"),
        ({"treatment_monitor": {"name": "No Phone"}}, "treatment_monitor"),
        ({"status": "completed"}, "status"),
        ({"patient_id": random_id()}, "patient_id"),
        ({"clinician_id": random_id()}, "clinician_id"),
        ({"medication_taken_at": "2026-12-01T13:00:00Z"}, "medication_taken_at"),
        ({"transitions": []}, "transitions"),
        ({"id": random_id()}, "id"),
    ],
)
def test_invalid_changes_are_422_and_change_nothing(client, world, booked, changes, field):
    before = read(client, world.clinician, booked["id"])
    tag = etag(client, world.clinician, booked["id"])

    response = patch(client, world.clinician, booked["id"], changes, tag)

    assert_problem(response, 422, field)
    assert read(client, world.clinician, booked["id"]) == before
    assert etag(client, world.clinician, booked["id"]) == tag


# Who may change a session


@pytest.mark.parametrize("who", ["patient", "other_patient", "admin"])
def test_patients_and_admins_may_not_patch(client, world, booked, who):
    tag = etag(client, world.clinician, booked["id"])

    response = patch(client, getattr(world, who), booked["id"], {"notes": "mine"}, tag)

    assert_problem(response, 403)
    assert read(client, world.clinician, booked["id"])["notes"] == booked["notes"]


@pytest.mark.parametrize("who", ["other_clinician", "lone_clinician"])
def test_clinicians_outside_the_care_team_get_404_like_a_missing_session(
    client, world, booked, who
):
    tag = etag(client, world.clinician, booked["id"])
    actor = getattr(world, who)

    foreign = patch(client, actor, booked["id"], {"notes": "mine"}, tag)
    missing = patch(client, actor, random_id(), {"notes": "mine"}, tag)
    foreign_without_if_match = patch(client, actor, booked["id"], {"notes": "mine"})

    assert assert_problem(foreign, 404) == assert_problem(missing, 404)
    # No If-Match check before the visibility check: 428 would betray that the session exists.
    assert assert_problem(foreign_without_if_match, 404) == assert_problem(missing, 404)
    assert read(client, world.clinician, booked["id"])["notes"] == booked["notes"]


def test_another_care_team_clinician_may_reschedule(client, world, booked):
    client.put(
        f"{API}/patients/{world.patient.id}/care-team/{world.other_clinician.id}",
        headers=world.clinician.headers,
    )
    tag = etag(client, world.other_clinician, booked["id"])

    response = patch(
        client,
        world.other_clinician,
        booked["id"],
        {"scheduled_start": "2026-12-04T13:00:00Z"},
        tag,
    )

    assert response.status_code == 200, response.get_json()
    # The session stays with the clinician who runs it.
    assert response.get_json()["clinician_id"] == world.clinician.id
