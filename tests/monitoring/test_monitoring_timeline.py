"""The checkpoint timeline of a session, read against a frozen clock (clinical reference,
"Monitoring a session at home"): pre-session is due at the scheduled start, +40 min and
end-of-session count from `medication_taken_at`; a checkpoint is overdue once the grace period
after its due time has passed with no note recording it, done once a note records it in time,
and late when the note that records it was observed after its due time plus grace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.monitoring.helpers import (
    CHECKPOINTS,
    SCHEDULED_START_UTC,
    assert_problem,
    checkpoint,
    medication_url,
    note_body,
    notes_url,
    parse_time,
    random_id,
    schedule_session,
    timeline_url,
)

SECOND = timedelta(seconds=1)
GRACE = timedelta(minutes=15)
#: When the patient takes the medication in these tests: five minutes after the scheduled start.
TAKEN_AT = SCHEDULED_START_UTC + timedelta(minutes=5)
DUE_AFTER_TAKEN = {"plus_40_min": timedelta(minutes=40), "end_of_session": timedelta(minutes=120)}


@pytest.fixture
def booked(client, world, clock):
    """A session of world.patient at 13:00 UTC, scheduled while the clock stands at 11:00."""
    return schedule_session(
        client, world.clinician, world.patient, headers=clock.headers(world.clinician)
    )


def get_timeline(client, clock, actor, session_id):
    response = client.get(timeline_url(session_id), headers=clock.headers(actor))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def status_at(client, clock, world, session_id, moment, name):
    clock.move_to(moment)
    return checkpoint(get_timeline(client, clock, world.clinician, session_id), name)["status"]


def take_medication(client, clock, world, actor, session_id, taken_at=None):
    """The clinician starts the session (they are on the call); `actor` records the medication."""
    started = client.post(
        f"/api/v1/sessions/{session_id}/start", headers=clock.headers(world.clinician), json={}
    )
    assert started.status_code == 200, started.get_json()
    body = {} if taken_at is None else {"taken_at": taken_at}
    response = client.post(medication_url(session_id), headers=clock.headers(actor), json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def record(client, clock, world, session_id, name):
    response = client.post(
        notes_url(session_id),
        headers=clock.headers(world.clinician),
        json=note_body(checkpoint=name, observed_at=clock.now().isoformat()),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def due_time(name: str, taken_at: datetime = TAKEN_AT) -> datetime:
    return SCHEDULED_START_UTC if name == "pre_session" else taken_at + DUE_AFTER_TAKEN[name]


def prepare(client, clock, world, session_id, name):
    """For +40 min and end of session: the medication is taken at TAKEN_AT."""
    if name != "pre_session":
        clock.move_to(TAKEN_AT)
        take_medication(client, clock, world, world.patient, session_id)


# --- before and after the medication is taken ----------------------------------------------


def test_before_the_medication_only_pre_session_has_a_due_time(client, world, clock, booked):
    timeline = get_timeline(client, clock, world.clinician, booked)

    assert timeline["session_id"] == booked
    assert timeline["medication_taken_at"] is None
    assert [item["name"] for item in timeline["checkpoints"]] == list(CHECKPOINTS)
    assert parse_time(checkpoint(timeline, "pre_session")["due_at"]) == SCHEDULED_START_UTC
    for item in timeline["checkpoints"]:
        assert item["status"] == "pending"
        assert item["note_id"] is None
    for name in ("plus_40_min", "end_of_session"):
        assert checkpoint(timeline, name)["due_at"] is None


def test_without_the_medication_later_checkpoints_never_fall_behind(client, world, clock, booked):
    clock.move_to(SCHEDULED_START_UTC + timedelta(days=2))

    timeline = get_timeline(client, clock, world.clinician, booked)

    assert checkpoint(timeline, "pre_session")["status"] == "overdue"
    for name in ("plus_40_min", "end_of_session"):
        assert checkpoint(timeline, name) == {
            "name": name,
            "due_at": None,
            "status": "pending",
            "note_id": None,
            "observed_at": None,
        }


@pytest.mark.parametrize("actor", ["clinician", "patient"])
def test_taking_the_medication_sets_the_later_due_times(client, world, clock, booked, actor):
    clock.move_to(TAKEN_AT)

    session = take_medication(client, clock, world, getattr(world, actor), booked)

    assert parse_time(session["medication_taken_at"]) == TAKEN_AT
    timeline = get_timeline(client, clock, world.patient, booked)
    assert parse_time(timeline["medication_taken_at"]) == TAKEN_AT
    assert parse_time(checkpoint(timeline, "pre_session")["due_at"]) == SCHEDULED_START_UTC
    assert parse_time(checkpoint(timeline, "plus_40_min")["due_at"]) == TAKEN_AT + timedelta(
        minutes=40
    )
    assert parse_time(checkpoint(timeline, "end_of_session")["due_at"]) == TAKEN_AT + timedelta(
        minutes=120
    )


def test_due_times_count_from_when_it_was_taken_not_when_recorded(client, world, clock, booked):
    clock.move_to(SCHEDULED_START_UTC + timedelta(minutes=30))

    take_medication(
        client, clock, world, world.clinician, booked, taken_at="2026-12-01T14:02:00+01:00"
    )

    timeline = get_timeline(client, clock, world.clinician, booked)
    taken = datetime(2026, 12, 1, 13, 2, tzinfo=UTC)
    assert parse_time(timeline["medication_taken_at"]) == taken
    assert parse_time(checkpoint(timeline, "plus_40_min")["due_at"]) == taken + timedelta(
        minutes=40
    )
    assert parse_time(checkpoint(timeline, "end_of_session")["due_at"]) == taken + timedelta(
        minutes=120
    )


# --- each checkpoint through its due time and grace period ---------------------------------


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_a_checkpoint_through_due_grace_overdue_and_late(client, world, clock, booked, name):
    prepare(client, clock, world, booked, name)
    due = due_time(name)
    timeline = get_timeline(client, clock, world.clinician, booked)
    assert parse_time(checkpoint(timeline, name)["due_at"]) == due

    assert status_at(client, clock, world, booked, due - SECOND, name) == "pending"
    assert status_at(client, clock, world, booked, due, name) == "pending"
    assert status_at(client, clock, world, booked, due + GRACE, name) == "pending"
    assert status_at(client, clock, world, booked, due + GRACE + SECOND, name) == "overdue"

    note = record(client, clock, world, booked, name)  # late, but recorded

    item = checkpoint(get_timeline(client, clock, world.clinician, booked), name)
    assert item == {
        "name": name,
        "due_at": item["due_at"],
        "status": "late",
        "note_id": note["id"],
        "observed_at": note["observed_at"],
    }
    assert status_at(client, clock, world, booked, due + timedelta(hours=6), name) == "late"


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_a_note_observed_at_the_end_of_grace_is_done_and_one_second_later_is_late(
    client, world, clock, booked, name
):
    prepare(client, clock, world, booked, name)
    due = due_time(name)
    if name == "pre_session":  # observed before the medication, which comes later here
        clock.move_to(due + GRACE)
    else:
        clock.move_to(due + GRACE + SECOND)
    record(client, clock, world, booked, name)

    status = checkpoint(get_timeline(client, clock, world.clinician, booked), name)["status"]

    assert status == ("done" if name == "pre_session" else "late")


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_a_checkpoint_recorded_on_time_is_done_and_stays_done(client, world, clock, booked, name):
    prepare(client, clock, world, booked, name)
    clock.move_to(due_time(name) - timedelta(minutes=2))
    note = record(client, clock, world, booked, name)

    for moment in (due_time(name), due_time(name) + GRACE + SECOND, due_time(name) + 3 * GRACE):
        clock.move_to(moment)
        item = checkpoint(get_timeline(client, clock, world.clinician, booked), name)
        assert (item["status"], item["note_id"]) == ("done", note["id"])


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_only_a_note_for_that_checkpoint_makes_it_done(client, world, clock, booked, name):
    if name != "pre_session":
        clock.move_to(SCHEDULED_START_UTC)
        record(client, clock, world, booked, "pre_session")
    prepare(client, clock, world, booked, name)
    if name == "end_of_session":
        clock.move_to(TAKEN_AT + timedelta(minutes=40))
        record(client, clock, world, booked, "plus_40_min")
    clock.move_to(due_time(name) + GRACE + SECOND)
    record(client, clock, world, booked, None)

    timeline = get_timeline(client, clock, world.clinician, booked)

    assert checkpoint(timeline, name)["status"] == "overdue"
    assert checkpoint(timeline, name)["note_id"] is None


@pytest.mark.parametrize("actor", ["clinician", "patient"])
def test_the_patient_and_the_care_team_see_the_same_timeline(client, world, clock, booked, actor):
    prepare(client, clock, world, booked, "plus_40_min")
    clock.move_to(TAKEN_AT + timedelta(minutes=56))

    timeline = get_timeline(client, clock, getattr(world, actor), booked)

    assert [item["status"] for item in timeline["checkpoints"]] == ["overdue", "overdue", "pending"]


# --- sessions that did not happen ----------------------------------------------------------


@pytest.mark.parametrize("closing", ["cancel", "no-show"])
def test_a_cancelled_or_missed_session_is_never_overdue(client, world, clock, booked, closing):
    clock.move_to(SCHEDULED_START_UTC + GRACE + SECOND)
    assert (
        checkpoint(get_timeline(client, clock, world.clinician, booked), "pre_session")["status"]
        == "overdue"
    )
    body = {"reason": "Patient unwell."} if closing == "cancel" else {}
    closed = client.post(
        f"/api/v1/sessions/{booked}/{closing}", headers=clock.headers(world.clinician), json=body
    )
    assert closed.status_code == 200, closed.get_json()

    for later in (timedelta(hours=1), timedelta(hours=3), timedelta(days=30)):
        clock.move_to(SCHEDULED_START_UTC + later)
        timeline = get_timeline(client, clock, world.clinician, booked)
        assert [item["status"] for item in timeline["checkpoints"]] == ["pending"] * 3


@pytest.mark.parametrize("closing", ["cancel", "no-show"])
def test_after_the_medication_a_session_cannot_be_closed_and_monitoring_goes_on(
    client, world, clock, booked, closing
):
    prepare(client, clock, world, booked, "plus_40_min")
    clock.move_to(TAKEN_AT + timedelta(minutes=10))
    body = {"reason": "Patient unwell."} if closing == "cancel" else {}

    refused = client.post(
        f"/api/v1/sessions/{booked}/{closing}", headers=clock.headers(world.clinician), json=body
    )

    problem = assert_problem(refused, 409)
    assert "monitoring" in problem["detail"]
    clock.move_to(TAKEN_AT + timedelta(minutes=40) + GRACE + SECOND)
    timeline = get_timeline(client, clock, world.clinician, booked)
    assert checkpoint(timeline, "plus_40_min")["status"] == "overdue"


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_the_grace_period_is_configurable(client, world, clock, booked, monkeypatch, name):
    monkeypatch.setitem(client.application.config, "CHECKPOINT_GRACE_MINUTES", 5)
    prepare(client, clock, world, booked, name)
    due, grace = due_time(name), timedelta(minutes=5)

    assert status_at(client, clock, world, booked, due + grace, name) == "pending"
    assert status_at(client, clock, world, booked, due + grace + SECOND, name) == "overdue"


def test_end_of_session_time_is_configurable(client, world, clock, booked, monkeypatch):
    monkeypatch.setitem(client.application.config, "CHECKPOINT_END_OF_SESSION_MINUTES", 150)
    prepare(client, clock, world, booked, "end_of_session")
    due = TAKEN_AT + timedelta(minutes=150)

    timeline = get_timeline(client, clock, world.clinician, booked)

    assert parse_time(checkpoint(timeline, "end_of_session")["due_at"]) == due
    assert parse_time(checkpoint(timeline, "plus_40_min")["due_at"]) == TAKEN_AT + timedelta(
        minutes=40
    )
    assert status_at(client, clock, world, booked, due + GRACE, "end_of_session") == "pending"
    assert (
        status_at(client, clock, world, booked, due + GRACE + SECOND, "end_of_session") == "overdue"
    )


def test_plus_40_time_is_configurable(client, world, clock, booked, monkeypatch):
    monkeypatch.setitem(client.application.config, "CHECKPOINT_PLUS_40_MINUTES", 45)
    prepare(client, clock, world, booked, "plus_40_min")
    due = TAKEN_AT + timedelta(minutes=45)

    timeline = get_timeline(client, clock, world.clinician, booked)

    assert parse_time(checkpoint(timeline, "plus_40_min")["due_at"]) == due
    assert status_at(client, clock, world, booked, due + GRACE, "plus_40_min") == "pending"
    assert status_at(client, clock, world, booked, due + GRACE + SECOND, "plus_40_min") == "overdue"


# --- who may see and record -----------------------------------------------------------------


@pytest.mark.parametrize("actor", ["other_patient", "other_clinician", "lone_clinician"])
def test_outsiders_get_the_same_404_for_a_timeline_as_for_a_random_id(
    client, world, clock, booked, actor
):
    headers = clock.headers(getattr(world, actor))

    hidden = client.get(timeline_url(booked), headers=headers)
    unknown = client.get(timeline_url(random_id()), headers=headers)

    assert_problem(hidden, 404)
    assert hidden.get_json() == assert_problem(unknown, 404)


def test_admin_may_not_read_a_timeline(client, world, clock, booked):
    assert_problem(client.get(timeline_url(booked), headers=clock.headers(world.admin)), 403)


@pytest.mark.parametrize("actor", ["other_patient", "other_clinician", "lone_clinician"])
def test_outsiders_cannot_record_the_medication(client, world, clock, booked, actor):
    clock.move_to(TAKEN_AT)

    response = client.post(
        medication_url(booked), headers=clock.headers(getattr(world, actor)), json={}
    )

    assert_problem(response, 404)
    assert get_timeline(client, clock, world.clinician, booked)["medication_taken_at"] is None


def test_the_medication_is_recorded_once(client, world, clock, booked):
    clock.move_to(TAKEN_AT)
    take_medication(client, clock, world, world.patient, booked)
    clock.move_to(TAKEN_AT + timedelta(minutes=10))

    again = client.post(medication_url(booked), headers=clock.headers(world.clinician), json={})

    assert_problem(again, 409)
    timeline = get_timeline(client, clock, world.clinician, booked)
    assert parse_time(timeline["medication_taken_at"]) == TAKEN_AT


def test_the_medication_cannot_be_taken_in_the_future(client, world, clock, booked):
    clock.move_to(TAKEN_AT)
    ahead = (TAKEN_AT + timedelta(minutes=5) + SECOND).isoformat()

    response = client.post(
        medication_url(booked), headers=clock.headers(world.patient), json={"taken_at": ahead}
    )

    assert_problem(response, 422, "taken_at")
