"""Who may read check-ins: the patient and their care team. Anyone else's request for a
patient's list or one check-in answers exactly as one for a record that does not exist; an
admin, whose role never uses these routes, gets 403."""

from __future__ import annotations

import pytest

from telehealth.audit.models import AuditEvent
from tests.checkins.checkin_helpers import (
    assert_problem,
    checkin_body,
    checkin_rows,
    checkin_url,
    count,
    patient_checkins_url,
    post_checkin,
    random_id,
    read_checkin,
    submitted,
)

pytestmark = pytest.mark.usefixtures("clock")

OUTSIDERS = ["other_patient", "other_clinician", "lone_clinician"]


@pytest.fixture
def checkin(client, world):
    """A check-in of world.patient."""
    return submitted(client, world.patient, checkin_body(note="Private note"))


@pytest.mark.parametrize("reader", ["patient", "clinician"])
def test_the_patient_and_the_care_team_read_the_list(client, world, checkin, reader):
    response = client.get(
        patient_checkins_url(world.patient.id), headers=getattr(world, reader).headers
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [item["id"] for item in body["items"]] == [checkin["id"]]
    assert body["items"][0]["note"] == "Private note"
    assert body["next_cursor"] is None


@pytest.mark.parametrize("reader", ["patient", "clinician"])
def test_the_patient_and_the_care_team_read_one_check_in(client, world, checkin, reader):
    body = read_checkin(client, getattr(world, reader), checkin["id"])

    assert body["id"] == checkin["id"]
    assert body["patient_id"] == world.patient.id


def test_a_clinician_added_to_the_care_team_later_sees_the_check_ins(client, world, checkin):
    outsider = world.lone_clinician
    before = client.get(checkin_url(checkin["id"]), headers=outsider.headers)
    added = client.put(
        f"/api/v1/patients/{world.patient.id}/care-team/{outsider.id}",
        headers=world.clinician.headers,
    )
    assert added.status_code == 200, added.get_json()

    after = client.get(checkin_url(checkin["id"]), headers=outsider.headers)

    assert_problem(before, 404)
    assert after.status_code == 200
    assert after.get_json()["id"] == checkin["id"]


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_an_outsider_gets_the_same_404_for_the_list_as_for_no_patient(
    client, world, checkin, outsider
):
    headers = getattr(world, outsider).headers

    hidden = client.get(patient_checkins_url(world.patient.id), headers=headers)
    missing = client.get(patient_checkins_url(random_id()), headers=headers)

    assert assert_problem(hidden, 404) == assert_problem(missing, 404)
    assert hidden.headers.get("Content-Type") == missing.headers.get("Content-Type")
    assert "Private note" not in hidden.get_data(as_text=True)


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_an_outsider_gets_the_same_404_for_a_check_in_as_for_none(client, world, checkin, outsider):
    headers = getattr(world, outsider).headers

    hidden = client.get(checkin_url(checkin["id"]), headers=headers)
    missing = client.get(checkin_url(random_id()), headers=headers)

    assert assert_problem(hidden, 404) == assert_problem(missing, 404)
    assert "Private note" not in hidden.get_data(as_text=True)


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_filters_and_cursors_do_not_open_a_hidden_list(client, world, checkin, outsider):
    headers = getattr(world, outsider).headers
    url = patient_checkins_url(world.patient.id)

    for query in ({"instrument": "PHQ-9"}, {"limit": 1}, {"from": "2000-01-01T00:00:00Z"}):
        assert_problem(client.get(url, headers=headers, query_string=query), 404)


def test_an_admin_may_not_use_the_check_in_routes(app, client, world, checkin):
    admin = world.admin.headers

    listed = client.get(patient_checkins_url(world.patient.id), headers=admin)
    read = client.get(checkin_url(checkin["id"]), headers=admin)
    posted = post_checkin(client, world.admin, checkin_body())

    assert_problem(listed, 403)
    assert_problem(read, 403)
    assert_problem(posted, 403)
    assert "Private note" not in listed.get_data(as_text=True) + read.get_data(as_text=True)
    assert checkin_rows(app, world.patient) == 1


@pytest.mark.parametrize("route", ["list", "one"])
def test_reading_needs_a_token(client, world, checkin, route):
    url = patient_checkins_url(world.patient.id) if route == "list" else checkin_url(checkin["id"])

    assert_problem(client.get(url), 401)


def test_a_patient_sees_only_their_own_check_ins(client, world):
    mine = submitted(client, world.patient, checkin_body(mood=2))
    theirs = submitted(client, world.other_patient, checkin_body(mood=9))

    own_list = client.get(patient_checkins_url(world.patient.id), headers=world.patient.headers)
    their_list = client.get(
        patient_checkins_url(world.other_patient.id), headers=world.patient.headers
    )
    their_one = client.get(checkin_url(theirs["id"]), headers=world.patient.headers)

    assert [item["id"] for item in own_list.get_json()["items"]] == [mine["id"]]
    assert_problem(their_list, 404)
    assert_problem(their_one, 404)


def test_each_care_team_sees_only_its_own_patients_check_ins(client, world):
    mine = submitted(client, world.patient)
    theirs = submitted(client, world.other_patient)

    assert read_checkin(client, world.clinician, mine["id"])["id"] == mine["id"]
    assert read_checkin(client, world.other_clinician, theirs["id"])["id"] == theirs["id"]
    assert_problem(client.get(checkin_url(theirs["id"]), headers=world.clinician.headers), 404)
    assert_problem(client.get(checkin_url(mine["id"]), headers=world.other_clinician.headers), 404)


def test_refused_reads_are_audited_as_denied(app, client, world, checkin):
    before = count(app, AuditEvent, action="checkin.read")

    client.get(checkin_url(checkin["id"]), headers=world.lone_clinician.headers)

    assert count(app, AuditEvent, action="checkin.read") == before + 1
    assert count(app, AuditEvent, action="checkin.read", outcome="denied") >= 1


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123"])
def test_an_id_that_is_not_a_uuid_is_not_found(client, world, bad_id):
    assert_problem(client.get(checkin_url(bad_id), headers=world.patient.headers), 404)
    assert_problem(client.get(patient_checkins_url(bad_id), headers=world.patient.headers), 404)
