"""Recording and reading monitoring notes: who may do which, what a note answers with, and that
a note is never edited or deleted in place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.monitoring.helpers import (
    SCHEDULED_START_UTC,
    add_to_care_team,
    assert_problem,
    count_notes,
    create_note,
    full_note_body,
    note_body,
    note_url,
    notes_url,
    parse_time,
    random_id,
    schedule_session,
    start_and_medicate,
    stored_note,
)

# --- recording ------------------------------------------------------------------------------


def test_care_team_clinician_records_a_note_with_every_field(client, world, session_id):
    start_and_medicate(client, world.clinician, session_id)  # +40 min opens at 12:30 UTC
    body = full_note_body(observed_at="2026-12-01T13:30:30+01:00")

    response = client.post(notes_url(session_id), headers=world.clinician.headers, json=body)

    assert response.status_code == 201, response.get_json()
    note = response.get_json()
    assert note["session_id"] == session_id
    assert note["patient_id"] == world.patient.id
    assert note["author_id"] == world.clinician.id
    assert note["checkpoint"] == "plus_40_min"
    assert parse_time(note["observed_at"]) == datetime(2026, 12, 1, 12, 30, 30, tzinfo=UTC)
    assert note["vitals"] == body["vitals"]
    assert note["sedation"] == 4
    assert note["dissociation"] == "mild"
    assert note["side_effects"] == ["nausea", "blurred_vision"]
    assert note["adverse_event"] == body["adverse_event"]
    assert note["text"] == body["text"]
    assert note["signed_at"] is None
    assert note["amendments"] == []
    parse_time(note["created_at"])


def test_a_minimal_note_has_empty_readings(client, world, session_id):
    note = create_note(client, world.clinician.headers, session_id)

    assert note["checkpoint"] is None
    assert set(note["vitals"].values()) == {None}
    assert note["sedation"] is None
    assert note["dissociation"] is None
    assert note["side_effects"] == []
    assert note["adverse_event"] is None
    assert note["signed_at"] is None
    assert note["amendments"] == []


def test_any_care_team_clinician_may_record_a_note(client, world, session_id):
    add_to_care_team(client, world.clinician, world.patient, world.lone_clinician)

    note = create_note(client, world.lone_clinician.headers, session_id)

    assert note["author_id"] == world.lone_clinician.id


@pytest.mark.parametrize("actor", ["patient", "admin", "other_patient"])
def test_roles_other_than_clinician_may_not_record_notes(client, world, session_id, actor):
    response = client.post(
        notes_url(session_id), headers=getattr(world, actor).headers, json=note_body()
    )

    assert_problem(response, 403)
    assert count_notes(client.application) == 0


@pytest.mark.parametrize("actor", ["other_clinician", "lone_clinician"])
def test_a_clinician_outside_the_care_team_gets_404(client, world, session_id, actor):
    headers = getattr(world, actor).headers

    response = client.post(notes_url(session_id), headers=headers, json=note_body())
    unknown = client.post(notes_url(random_id()), headers=headers, json=note_body())

    assert_problem(response, 404)
    assert response.get_json() == assert_problem(unknown, 404)
    assert count_notes(client.application) == 0


def test_recording_needs_a_token(client, session_id):
    assert_problem(client.post(notes_url(session_id), json=note_body()), 401)


@pytest.mark.parametrize("missing", ["observed_at", "text"])
def test_observed_at_and_text_are_required(client, world, session_id, missing):
    response = client.post(
        notes_url(session_id), headers=world.clinician.headers, json=note_body(**{missing: None})
    )

    assert_problem(response, 422, missing)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_blank_text_is_refused(client, world, session_id, text):
    response = client.post(
        notes_url(session_id), headers=world.clinician.headers, json=note_body(text=text)
    )

    assert_problem(response, 422, "text")


@pytest.mark.parametrize(
    "observed_at",
    ["2026-11-21T01:00:00", "2026-11-21", "yesterday", "2026-11-21T25:00:00Z", 1763686800],
)
def test_observed_at_must_be_rfc3339_with_an_offset(client, world, session_id, observed_at):
    response = client.post(
        notes_url(session_id),
        headers=world.clinician.headers,
        json=note_body(observed_at=observed_at),
    )

    assert_problem(response, 422, "observed_at")


def test_observed_at_may_be_up_to_five_minutes_ahead_but_not_more(client, world, clock):
    session_id = schedule_session(
        client, world.clinician, world.patient, headers=clock.headers(world.clinician)
    )
    clock.move_to(SCHEDULED_START_UTC)
    headers = clock.headers(world.clinician)
    now = clock.now()

    at_skew = client.post(
        notes_url(session_id),
        headers=headers,
        json=note_body(observed_at=(now + timedelta(minutes=5)).isoformat()),
    )
    beyond = client.post(
        notes_url(session_id),
        headers=headers,
        json=note_body(observed_at=(now + timedelta(minutes=5, seconds=1)).isoformat()),
    )

    assert at_skew.status_code == 201, at_skew.get_json()
    assert_problem(beyond, 422, "observed_at")
    assert count_notes(client.application) == 1


@pytest.mark.parametrize("checkpoint", ["pre_session", "plus_40_min", "end_of_session", None])
def test_checkpoint_is_one_of_three_or_null(client, world, clock, checkpoint):
    session_id = schedule_session(
        client, world.clinician, world.patient, headers=clock.headers(world.clinician)
    )
    if checkpoint not in ("pre_session", None):
        clock.move_to(SCHEDULED_START_UTC)
        start_and_medicate(
            client, world.clinician, session_id, headers=clock.headers(world.clinician)
        )
        clock.move_to(SCHEDULED_START_UTC + timedelta(hours=2))  # every window is open
    else:
        clock.move_to(SCHEDULED_START_UTC - timedelta(minutes=5))
    body = {**note_body(observed_at=clock.now().isoformat()), "checkpoint": checkpoint}

    response = client.post(notes_url(session_id), headers=clock.headers(world.clinician), json=body)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["checkpoint"] == checkpoint


@pytest.mark.parametrize("checkpoint", ["plus_40", "end", "PRE_SESSION", "", 40])
def test_an_unknown_checkpoint_is_refused(client, world, session_id, checkpoint):
    response = client.post(
        notes_url(session_id),
        headers=world.clinician.headers,
        json=note_body(checkpoint=checkpoint),
    )

    assert_problem(response, 422, "checkpoint")


def test_a_request_that_is_not_a_json_object_is_refused(client, world, session_id):
    response = client.post(
        notes_url(session_id), headers=world.clinician.headers, json=["not", "an", "object"]
    )

    assert_problem(response, 422)
    assert count_notes(client.application) == 0


def test_malformed_json_is_a_problem(client, world, session_id):
    response = client.post(
        notes_url(session_id),
        headers=world.clinician.headers,
        data='{"text": ',
        content_type="application/json",
    )

    assert_problem(response, 400)
    assert count_notes(client.application) == 0


@pytest.mark.parametrize(("length", "status"), [(10000, 201), (10001, 422)])
def test_text_is_bounded(client, world, session_id, length, status):
    response = client.post(
        notes_url(session_id), headers=world.clinician.headers, json=note_body(text="x" * length)
    )

    assert response.status_code == status, response.get_json()
    if status == 422:
        assert_problem(response, 422, "text")


# --- reading --------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["clinician", "patient"])
def test_care_team_and_the_patient_read_a_note(client, world, note, actor):
    response = client.get(note_url(note["id"]), headers=getattr(world, actor).headers)

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == note


@pytest.mark.parametrize("actor", ["clinician", "patient"])
def test_care_team_and_the_patient_list_the_session_notes(client, world, session_id, actor):
    later = create_note(client, world.clinician.headers, session_id, observed_at=_ago(minutes=2))
    earlier = create_note(client, world.clinician.headers, session_id, observed_at=_ago(minutes=30))

    response = client.get(notes_url(session_id), headers=getattr(world, actor).headers)

    assert response.status_code == 200, response.get_json()
    page = response.get_json()
    assert page["items"] == [earlier, later]  # in the order observed
    assert page["next_cursor"] is None


def test_the_list_is_paginated(client, world, session_id):
    created = [
        create_note(client, world.clinician.headers, session_id, observed_at=_ago(minutes=m))
        for m in (25, 20, 15, 10, 5)
    ]
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = client.get(
            notes_url(session_id), headers=world.clinician.headers, query_string=query
        )
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [note["id"] for note in created]


def test_the_list_holds_only_that_session_notes(client, world, session_id):
    other_session = schedule_session(client, world.other_clinician, world.other_patient)
    mine = create_note(client, world.clinician.headers, session_id)
    create_note(client, world.other_clinician.headers, other_session)

    page = client.get(notes_url(session_id), headers=world.clinician.headers).get_json()

    assert [item["id"] for item in page["items"]] == [mine["id"]]


def test_admin_may_not_use_the_note_routes(client, world, session_id, note):
    assert_problem(client.get(notes_url(session_id), headers=world.admin.headers), 403)
    assert_problem(client.get(note_url(note["id"]), headers=world.admin.headers), 403)


# --- the same 404 for a note one may not see as for one that does not exist -----------------


@pytest.mark.parametrize("actor", ["other_patient", "other_clinician", "lone_clinician"])
def test_outsiders_get_the_same_404_for_a_note_as_for_a_random_id(client, world, note, actor):
    headers = getattr(world, actor).headers

    hidden = client.get(note_url(note["id"]), headers=headers)
    unknown = client.get(note_url(random_id()), headers=headers)

    assert_problem(hidden, 404)
    assert_problem(unknown, 404)
    assert hidden.get_json() == unknown.get_json()
    assert hidden.headers["Content-Type"] == unknown.headers["Content-Type"]


@pytest.mark.parametrize("actor", ["other_patient", "other_clinician", "lone_clinician"])
def test_outsiders_get_the_same_404_for_a_session_notes_list(
    client, world, session_id, note, actor
):
    headers = getattr(world, actor).headers

    hidden = client.get(notes_url(session_id), headers=headers)
    unknown = client.get(notes_url(random_id()), headers=headers)

    assert_problem(hidden, 404)
    assert hidden.get_json() == assert_problem(unknown, 404)


def test_a_patient_sees_no_other_patients_notes(client, world):
    theirs = schedule_session(client, world.other_clinician, world.other_patient)
    their_note = create_note(client, world.other_clinician.headers, theirs)

    assert_problem(client.get(note_url(their_note["id"]), headers=world.patient.headers), 404)
    assert_problem(client.get(notes_url(theirs), headers=world.patient.headers), 404)
    own = client.get(note_url(their_note["id"]), headers=world.other_patient.headers)
    assert own.status_code == 200


def test_a_clinician_removed_from_the_care_team_loses_the_notes(client, world, session_id):
    add_to_care_team(client, world.clinician, world.patient, world.lone_clinician)
    note = create_note(client, world.lone_clinician.headers, session_id)
    removed = client.delete(
        f"/api/v1/patients/{world.patient.id}/care-team/{world.lone_clinician.id}",
        headers=world.clinician.headers,
    )
    assert removed.status_code in (200, 204), removed.get_json()

    assert_problem(client.get(note_url(note["id"]), headers=world.lone_clinician.headers), 404)


# --- notes are never edited or deleted in place ---------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize("actor", ["clinician", "patient", "admin"])
def test_a_note_cannot_be_edited_or_deleted(client, world, note, method, actor):
    response = getattr(client, method)(
        note_url(note["id"]), headers=getattr(world, actor).headers, json={"text": "Rewritten."}
    )

    assert_problem(response, 405)
    allowed = {value.strip() for value in response.headers["Allow"].split(",")}
    assert "GET" in allowed
    assert not allowed & {"PUT", "PATCH", "DELETE"}
    stored = stored_note(client.application, note["id"])
    assert stored is not None
    assert stored.text == note["text"]


def _ago(*, minutes: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()
