"""POST /api/v1/sessions: a care-team clinician schedules a session; times answer in UTC and in
the patient's own zone; a session may not overlap another of the same clinician or patient."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import make_patient
from tests.sessions.helpers import (
    API,
    PATHS_TO,
    SESSIONS,
    assert_problem,
    assert_utc,
    bring_to,
    count_sessions,
    list_items,
    parse,
    random_id,
    read,
    schedule,
    scheduled,
    session_body,
)

# Scheduling


def test_a_care_team_clinician_schedules_a_session(app, client, world):
    response = schedule(client, world.clinician, world.patient.id, "2026-12-01T14:00:00+01:00")

    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert uuid.UUID(created["id"])
    assert created["status"] == "scheduled"
    assert created["patient_id"] == world.patient.id
    assert created["clinician_id"] == world.clinician.id
    assert created["scheduled_start"] in ("2026-12-01T13:00:00+00:00", "2026-12-01T13:00:00Z")
    assert_utc(created["scheduled_start"])
    # New York keeps Eastern Standard Time (-05:00) in December.
    assert created["scheduled_start_local"] == "2026-12-01T08:00:00-05:00"
    assert created["timezone"] == "America/New_York"
    assert created["scheduled_end"].startswith("2026-12-01T15:00:00")
    assert_utc(created["scheduled_end"])
    assert created["duration_minutes"] == 120
    assert created["modality"] == "video"
    assert created["treatment_monitor"] == {"name": "Sam Sitter", "phone": "+1 555 0199"}
    assert created["notes"] == "Second session; patient prefers the afternoon."
    assert created["medication_taken_at"] is None
    assert created["transitions"] == []
    assert response.headers["ETag"]
    assert count_sessions(app) == 1


def test_the_created_session_reads_back_the_same(client, world):
    response = schedule(client, world.clinician, world.patient.id)
    created = response.get_json()

    got = client.get(f"{SESSIONS}/{created['id']}", headers=world.clinician.headers)

    assert got.status_code == 200
    assert got.get_json() == created
    assert got.headers["ETag"] == response.headers["ETag"]


@pytest.mark.parametrize(
    ("timezone", "start", "local"),
    [
        ("America/New_York", "2026-12-01T14:00:00+01:00", "2026-12-01T08:00:00-05:00"),
        ("America/New_York", "2027-07-01T14:00:00+00:00", "2027-07-01T10:00:00-04:00"),
        ("Europe/Berlin", "2026-12-01T09:30:00-05:00", "2026-12-01T15:30:00+01:00"),
        ("Asia/Kolkata", "2026-12-02T00:00:00Z", "2026-12-02T05:30:00+05:30"),
        # The night New York leaves daylight saving time: 06:30 UTC is 01:30 EST.
        ("America/New_York", "2027-11-07T06:30:00Z", "2027-11-07T01:30:00-05:00"),
    ],
)
def test_the_local_start_is_in_the_patients_zone(app, client, world, timezone, start, local):
    patient = make_patient(app, world.clinician.user, name="Zed Zone", timezone=timezone)

    created = scheduled(client, world.clinician, str(patient.id), start)

    assert created["scheduled_start_local"] == local
    assert created["timezone"] == timezone
    # The same instant, once in UTC and once in the patient's zone.
    assert_utc(created["scheduled_start"])
    assert parse(created["scheduled_start"]) == parse(local) == parse(start)


def test_notes_are_optional_and_trimmed(client, world):
    without = scheduled(client, world.clinician, world.patient.id, notes=None)
    trimmed = scheduled(
        client, world.clinician, world.patient.id, "2026-12-02T14:00:00Z", notes="  quiet room  "
    )

    assert without["notes"] is None
    assert trimmed["notes"] == "quiet room"


@pytest.mark.parametrize("modality", ["video", "phone"])
def test_both_modalities_are_accepted(client, world, modality):
    assert (
        scheduled(client, world.clinician, world.patient.id, modality=modality)["modality"]
        == modality
    )


@pytest.mark.parametrize("duration", [15, 480])
def test_duration_bounds_are_inclusive(client, world, duration):
    created = scheduled(client, world.clinician, world.patient.id, "2026-12-02T00:00:00Z", duration)

    assert created["duration_minutes"] == duration
    end = f"2026-12-02T{duration // 60:02d}:{duration % 60:02d}:00"
    assert created["scheduled_end"].startswith(end)


# Who may schedule


@pytest.mark.parametrize("who", ["patient", "admin"])
def test_patients_and_admins_may_not_schedule(app, client, world, who):
    response = client.post(
        SESSIONS, json=session_body(world.patient.id), headers=getattr(world, who).headers
    )

    assert_problem(response, 403)
    assert count_sessions(app) == 0


@pytest.mark.parametrize("who", ["other_clinician", "lone_clinician"])
def test_a_clinician_outside_the_care_team_gets_404_like_a_missing_patient(app, client, world, who):
    actor = getattr(world, who)
    foreign = client.post(SESSIONS, json=session_body(world.patient.id), headers=actor.headers)
    missing = client.post(SESSIONS, json=session_body(random_id()), headers=actor.headers)

    assert assert_problem(foreign, 404) == assert_problem(missing, 404)
    assert count_sessions(app) == 0


def test_without_a_token_scheduling_is_401(client, world):
    response = client.post(SESSIONS, json=session_body(world.patient.id))

    assert_problem(response, 401)


# Validation


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"patient_id": None}, "patient_id"),
        ({"patient_id": "not-a-uuid"}, "patient_id"),
        ({"patient_id": 7}, "patient_id"),
        ({"scheduled_start": None}, "scheduled_start"),
        ({"scheduled_start": "2026-12-01T14:00:00"}, "scheduled_start"),  # naive: no offset
        ({"scheduled_start": "2026-12-01"}, "scheduled_start"),
        ({"scheduled_start": "next tuesday"}, "scheduled_start"),
        ({"duration_minutes": None}, "duration_minutes"),
        ({"duration_minutes": 14}, "duration_minutes"),
        ({"duration_minutes": 481}, "duration_minutes"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": -60}, "duration_minutes"),
        ({"duration_minutes": 90.5}, "duration_minutes"),
        ({"duration_minutes": "lots"}, "duration_minutes"),
        ({"modality": None}, "modality"),
        ({"modality": "in_person"}, "modality"),
        ({"modality": "VIDEO"}, "modality"),
        ({"treatment_monitor": None}, "treatment_monitor"),
        ({"treatment_monitor": {"name": "Sam Sitter"}}, "treatment_monitor"),
        ({"treatment_monitor": {"phone": "+1 555 0199"}}, "treatment_monitor"),
        ({"treatment_monitor": {"name": "Sam", "phone": "call me"}}, "treatment_monitor"),
        ({"treatment_monitor": {"name": "  ", "phone": "+1 555 0199"}}, "treatment_monitor"),
        ({"treatment_monitor": "Sam Sitter"}, "treatment_monitor"),
        ({"notes": "x" * 2001}, "notes"),
        ({"status": "completed"}, "status"),
        ({"clinician_id": str(uuid.uuid4())}, "clinician_id"),
        ({"medication_taken_at": "2026-12-01T13:00:00Z"}, "medication_taken_at"),
    ],
)
def test_invalid_bodies_are_422_naming_the_field(app, client, world, changes, field):
    body = session_body(world.patient.id, **changes)
    if None in changes.values():
        assert field not in body

    response = client.post(SESSIONS, json=body, headers=world.clinician.headers)

    assert_problem(response, 422, field)
    assert count_sessions(app) == 0


def test_a_body_that_is_not_an_object_is_422(client, world):
    response = client.post(SESSIONS, json=["not", "an", "object"], headers=world.clinician.headers)

    assert_problem(response, 422)


# Overlaps


def other_patient_of(app, clinician, name="Quinn Second"):
    """Another patient on `clinician`'s care team."""
    return str(make_patient(app, clinician.user, name=name).id)


def join_care_team(client, world, patient_id, clinician):
    response = client.put(
        f"{API}/patients/{patient_id}/care-team/{clinician.id}", headers=world.admin.headers
    )
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    ("start", "duration"),
    [
        ("2026-12-01T13:00:00Z", 120),  # the same slot
        ("2026-12-01T12:20:00Z", 41),  # ends one minute into it
        ("2026-12-01T14:59:00Z", 60),  # starts one minute before it ends
        ("2026-12-01T13:30:00Z", 15),  # inside it
        ("2026-12-01T12:20:00Z", 220),  # around it
        ("2026-12-01T08:00:00-05:00", 30),  # the same start, written in another offset
    ],
)
def test_overlapping_the_clinicians_own_session_is_409(app, client, world, start, duration):
    first = scheduled(client, world.clinician, world.patient.id, "2026-12-01T13:00:00Z", 120)
    second_patient = other_patient_of(app, world.clinician)

    response = schedule(client, world.clinician, second_patient, start, duration)

    body = assert_problem(response, 409)
    assert body["conflicting_session_id"] == first["id"]
    assert count_sessions(app) == 1


def test_overlapping_the_patients_session_with_another_clinician_is_409(app, client, world):
    join_care_team(client, world, world.patient.id, world.other_clinician)
    first = scheduled(client, world.clinician, world.patient.id, "2026-12-01T13:00:00Z", 120)

    response = schedule(client, world.other_clinician, world.patient.id, "2026-12-01T14:00:00Z", 60)

    body = assert_problem(response, 409)
    assert body["conflicting_session_id"] == first["id"]
    assert count_sessions(app) == 1


@pytest.mark.parametrize(
    ("start", "duration"),
    [
        ("2026-12-01T15:00:00Z", 60),  # starts exactly when the first ends
        ("2026-12-01T12:20:00Z", 40),  # ends exactly when the first starts
        ("2026-12-01T16:00:00+01:00", 60),  # 15:00 UTC again, in another offset
    ],
)
def test_back_to_back_sessions_are_allowed(app, client, world, start, duration):
    scheduled(client, world.clinician, world.patient.id, "2026-12-01T13:00:00Z", 120)

    # Same clinician and same patient: both rules apply, and neither objects.
    response = schedule(client, world.clinician, world.patient.id, start, duration)

    assert response.status_code == 201, response.get_json()
    assert count_sessions(app) == 2


def test_different_clinicians_and_patients_may_share_a_slot(app, client, world):
    scheduled(client, world.clinician, world.patient.id)

    response = schedule(client, world.other_clinician, world.other_patient.id)

    assert response.status_code == 201, response.get_json()
    assert count_sessions(app) == 2


@pytest.mark.parametrize(("status", "blocks"), [(s, s != "cancelled") for s in PATHS_TO])
def test_every_session_but_a_cancelled_one_blocks_its_slot(app, client, world, status, blocks):
    first = scheduled(client, world.clinician, world.patient.id)
    bring_to(client, world.clinician, first["id"], status)

    same_patient = schedule(client, world.clinician, world.patient.id)

    if blocks:
        assert assert_problem(same_patient, 409)["conflicting_session_id"] == first["id"]
        assert count_sessions(app) == 1
    else:
        assert same_patient.status_code == 201, same_patient.get_json()
        assert same_patient.get_json()["id"] != first["id"]
        assert read(client, world.clinician, first["id"])["status"] == "cancelled"


def test_a_refused_overlap_leaves_the_lists_unchanged(client, world):
    first = scheduled(client, world.clinician, world.patient.id)

    assert_problem(schedule(client, world.clinician, world.patient.id), 409)

    assert [item["id"] for item in list_items(client, world.clinician)] == [first["id"]]
    assert [item["id"] for item in list_items(client, world.patient)] == [first["id"]]
