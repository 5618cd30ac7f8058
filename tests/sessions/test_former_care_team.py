"""Issue 18, finding 5: a clinician removed from a patient's care team no longer sees that
patient's sessions anywhere: not in their calendar feed, not named in a 409 overlap answer."""

from __future__ import annotations

from icalendar import Calendar

from tests.factories import make_patient, make_user
from tests.sessions.helpers import API, CALENDAR, assert_problem, schedule, scheduled

SLOT = "2026-12-02T13:00:00Z"


def _leave_team(app, client, world, patient_id, clinician):
    """`clinician` leaves the patient's care team, a replacement joining first."""
    team = f"{API}/patients/{patient_id}/care-team"
    replacement = make_user(app, clinician.user.role, name="Dr. Next")
    assert client.put(f"{team}/{replacement.id}", headers=world.admin.headers).status_code == 200
    assert client.delete(f"{team}/{clinician.id}", headers=world.admin.headers).status_code == 204


def _feed_uids(client, actor):
    response = client.get(CALENDAR, headers=actor.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {str(event["UID"]) for event in Calendar.from_ical(response.get_data()).walk("VEVENT")}


def test_a_former_member_s_calendar_drops_the_patient_s_session(app, client, world):
    booked = scheduled(client, world.clinician, world.patient.id, SLOT)
    uid = f"{booked['id']}@sessions.telehealth"
    assert uid in _feed_uids(client, world.clinician)

    _leave_team(app, client, world, world.patient.id, world.clinician)

    assert uid not in _feed_uids(client, world.clinician)


def test_an_overlap_with_a_former_patient_s_session_does_not_name_it(app, client, world):
    booked = scheduled(client, world.clinician, world.patient.id, SLOT)
    _leave_team(app, client, world, world.patient.id, world.clinician)
    still_mine = str(make_patient(app, world.clinician.user, name="Quinn Second").id)

    response = schedule(client, world.clinician, still_mine, SLOT)

    body = assert_problem(response, 409)
    assert "conflicting_session_id" not in body
    assert booked["id"] not in response.get_data(as_text=True)


def test_an_overlap_with_a_visible_session_still_names_it(app, client, world):
    booked = scheduled(client, world.clinician, world.patient.id, SLOT)
    second = str(make_patient(app, world.clinician.user, name="Quinn Second").id)

    response = schedule(client, world.clinician, second, SLOT)

    assert assert_problem(response, 409)["conflicting_session_id"] == booked["id"]
