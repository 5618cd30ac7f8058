"""Signing and amending notes: only the author signs, once, and the signature stays; any care-team
clinician amends, and the original stays as it was written."""

from __future__ import annotations

import pytest

from tests.monitoring.helpers import (
    add_to_care_team,
    amendments_url,
    assert_problem,
    count_amendments,
    note_url,
    parse_time,
    random_id,
    sign_url,
    stored_note,
)

AMENDMENT = {"text": "Heart rate was 82, not 28.", "reason": "Typo in the original reading."}


@pytest.fixture
def co_clinician(client, world):
    """lone_clinician, added to world.patient's care team (not the author of `note`)."""
    add_to_care_team(client, world.clinician, world.patient, world.lone_clinician)
    return world.lone_clinician


def read(client, actor, note_id):
    response = client.get(note_url(note_id), headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- signing --------------------------------------------------------------------------------


def test_the_author_signs_and_the_signature_stays(client, world, note):
    response = client.post(sign_url(note["id"]), headers=world.clinician.headers)

    assert response.status_code == 200, response.get_json()
    signed = response.get_json()
    signed_at = parse_time(signed["signed_at"])
    assert signed_at is not None
    assert signed_at >= parse_time(note["created_at"])
    assert {**signed, "signed_at": None} == note  # nothing else changed
    assert read(client, world.clinician, note["id"])["signed_at"] == signed["signed_at"]
    assert read(client, world.patient, note["id"])["signed_at"] == signed["signed_at"]


def test_signing_twice_is_a_conflict_and_keeps_the_first_signature(client, world, note):
    first = client.post(sign_url(note["id"]), headers=world.clinician.headers).get_json()

    again = client.post(sign_url(note["id"]), headers=world.clinician.headers)

    assert_problem(again, 409)
    assert read(client, world.clinician, note["id"])["signed_at"] == first["signed_at"]


def test_another_care_team_clinician_may_not_sign(client, world, note, co_clinician):
    response = client.post(sign_url(note["id"]), headers=co_clinician.headers)

    assert_problem(response, 403)
    assert read(client, world.clinician, note["id"])["signed_at"] is None


@pytest.mark.parametrize("actor", ["patient", "admin", "other_patient"])
def test_other_roles_may_not_sign(client, world, note, actor):
    assert_problem(client.post(sign_url(note["id"]), headers=getattr(world, actor).headers), 403)
    assert read(client, world.clinician, note["id"])["signed_at"] is None


@pytest.mark.parametrize("actor", ["other_clinician", "lone_clinician"])
def test_a_clinician_outside_the_care_team_gets_404_on_sign(client, world, note, actor):
    headers = getattr(world, actor).headers

    hidden = client.post(sign_url(note["id"]), headers=headers)
    unknown = client.post(sign_url(random_id()), headers=headers)

    assert_problem(hidden, 404)
    assert hidden.get_json() == assert_problem(unknown, 404)
    assert read(client, world.clinician, note["id"])["signed_at"] is None


def test_signing_a_note_that_does_not_exist_is_404(client, world):
    assert_problem(client.post(sign_url(random_id()), headers=world.clinician.headers), 404)


def test_the_author_off_the_care_team_can_no_longer_sign(client, world, note, co_clinician):
    removed = client.delete(
        f"/api/v1/patients/{world.patient.id}/care-team/{world.clinician.id}",
        headers=co_clinician.headers,
    )
    assert removed.status_code in (200, 204), removed.get_json()

    assert_problem(client.post(sign_url(note["id"]), headers=world.clinician.headers), 404)
    assert read(client, co_clinician, note["id"])["signed_at"] is None


# --- amending -------------------------------------------------------------------------------


def test_the_author_amends_and_the_original_stays(client, world, note):
    response = client.post(
        amendments_url(note["id"]), headers=world.clinician.headers, json=AMENDMENT
    )

    assert response.status_code == 201, response.get_json()
    amendment = response.get_json()
    assert set(amendment) == {"id", "text", "reason", "author_id", "created_at"}
    assert amendment["text"] == AMENDMENT["text"]
    assert amendment["reason"] == AMENDMENT["reason"]
    assert amendment["author_id"] == world.clinician.id
    parse_time(amendment["created_at"])
    after = read(client, world.clinician, note["id"])
    assert after["amendments"] == [amendment]
    assert {**after, "amendments": []} == note
    assert stored_note(client.application, note["id"]).text == note["text"]


def test_another_care_team_clinician_may_amend(client, world, note, co_clinician):
    response = client.post(amendments_url(note["id"]), headers=co_clinician.headers, json=AMENDMENT)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["author_id"] == co_clinician.id
    assert read(client, world.clinician, note["id"])["author_id"] == world.clinician.id


def test_amendments_appear_on_the_note_in_order(client, world, note, co_clinician):
    written = []
    for number, actor in enumerate([world.clinician, co_clinician, world.clinician], start=1):
        response = client.post(
            amendments_url(note["id"]),
            headers=actor.headers,
            json={"text": f"Addendum {number}.", "reason": f"Reason {number}."},
        )
        assert response.status_code == 201, response.get_json()
        written.append(response.get_json())

    for reader in (world.clinician, co_clinician, world.patient):
        assert read(client, reader, note["id"])["amendments"] == written
    listed = client.get(
        f"/api/v1/sessions/{note['session_id']}/notes", headers=world.patient.headers
    ).get_json()
    assert listed["items"][0]["amendments"] == written
    assert stored_note(client.application, note["id"]).text == note["text"]


def test_a_signed_note_can_still_be_amended_and_stays_signed(client, world, note):
    signed = client.post(sign_url(note["id"]), headers=world.clinician.headers).get_json()

    response = client.post(
        amendments_url(note["id"]), headers=world.clinician.headers, json=AMENDMENT
    )

    assert response.status_code == 201, response.get_json()
    after = read(client, world.clinician, note["id"])
    assert after["signed_at"] == signed["signed_at"]
    assert after["text"] == note["text"]
    assert [item["id"] for item in after["amendments"]] == [response.get_json()["id"]]


@pytest.mark.parametrize("actor", ["patient", "admin", "other_patient"])
def test_other_roles_may_not_amend(client, world, note, actor):
    response = client.post(
        amendments_url(note["id"]), headers=getattr(world, actor).headers, json=AMENDMENT
    )

    assert_problem(response, 403)
    assert count_amendments(client.application) == 0


@pytest.mark.parametrize("actor", ["other_clinician", "lone_clinician"])
def test_a_clinician_outside_the_care_team_gets_404_on_amend(client, world, note, actor):
    headers = getattr(world, actor).headers

    hidden = client.post(amendments_url(note["id"]), headers=headers, json=AMENDMENT)
    unknown = client.post(amendments_url(random_id()), headers=headers, json=AMENDMENT)

    assert_problem(hidden, 404)
    assert hidden.get_json() == assert_problem(unknown, 404)
    assert count_amendments(client.application) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "Why"}, "text"),
        ({"text": "What"}, "reason"),
        ({"text": "   ", "reason": "Why"}, "text"),
        ({"text": "What", "reason": ""}, "reason"),
        ({"text": "What", "reason": "x" * 501}, "reason"),
        ({"text": "What", "reason": "Why", "note_id": random_id()}, "note_id"),
        ({"text": "What", "reason": "Why", "author_id": random_id()}, "author_id"),
    ],
    ids=[
        "no text",
        "no reason",
        "blank text",
        "blank reason",
        "long reason",
        "note_id",
        "author_id",
    ],
)
def test_an_amendment_needs_text_and_reason_and_nothing_else(client, world, note, body, field):
    response = client.post(amendments_url(note["id"]), headers=world.clinician.headers, json=body)

    assert_problem(response, 422, field)
    assert count_amendments(client.application) == 0
