"""PATCH /api/v1/patients/{id} by the patient: on their own record, their time zone and
emergency contact (with If-Match, like the care team); the name, email and date of birth stay
the care team's (403 naming each); anyone else's record is not found. A new time zone moves the
reminders not yet sent."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.factories import frozen
from tests.patients.helpers import (
    assert_problem,
    audit_events,
    etag,
    patient_url,
    random_id,
    stored_patient,
    with_if_match,
)
from tests.schedules.schedule_helpers import item, plan, put_plan, reminders, tick, utc

OWN_CHANGES = {
    "timezone": "Europe/Berlin",
    "emergency_contact": {"name": "Em Other", "phone": "+49 30 7654321"},
}


def patch(client, actor, patient_id, body, if_match=None):
    headers = actor.headers if if_match is None else with_if_match(actor.headers, if_match)
    return client.patch(patient_url(patient_id), json=body, headers=headers)


def own_etag(client, world):
    return etag(client, world.patient.headers, world.patient.id)


def test_a_patient_changes_their_own_time_zone_and_emergency_contact(app, client, world):
    before = own_etag(client, world)

    response = patch(client, world.patient, world.patient.id, OWN_CHANGES, before)

    assert response.status_code == 200, response.get_json()
    record = response.get_json()
    assert record["timezone"] == "Europe/Berlin"
    assert record["emergency_contact"] == {"name": "Em Other", "phone": "+49 30 7654321"}
    assert record["name"] == "Pat Able"
    assert response.headers["ETag"] != before
    assert own_etag(client, world) == response.headers["ETag"]
    stored = stored_patient(app, world.patient.id)
    assert stored.timezone == "Europe/Berlin"
    assert stored.emergency_contact == {"name": "Em Other", "phone": "+49 30 7654321"}


def test_a_patient_may_change_one_part_of_the_emergency_contact(app, client, world):
    body = {"emergency_contact": {"phone": "+1 555 0199"}}

    response = patch(client, world.patient, world.patient.id, body, own_etag(client, world))

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["emergency_contact"] == {
        "name": "Em Contact",
        "phone": "+1 555 0199",
    }


def test_the_patient_s_own_change_is_audited_on_their_record(app, client, world):
    response = patch(client, world.patient, world.patient.id, OWN_CHANGES, own_etag(client, world))
    assert response.status_code == 200

    [event] = audit_events(app, action="patient.update", actor_id=world.patient.id)
    assert str(event.patient_id) == world.patient.id
    assert event.outcome == "success"


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Self Named"), ("email", "self@example.test"), ("date_of_birth", "1970-01-01")],
)
def test_fields_only_the_care_team_changes_are_refused_by_name(app, client, world, field, value):
    body = {**OWN_CHANGES, field: value}

    response = patch(client, world.patient, world.patient.id, body, own_etag(client, world))

    problem = assert_problem(response, 403)
    assert list(problem["errors"]) == [field]
    assert field in problem["detail"]
    # Nothing of the request is applied, the allowed part neither.
    stored = stored_patient(app, world.patient.id)
    assert (stored.name, stored.email, stored.timezone) == (
        "Pat Able",
        world.patient.user.email,
        "America/New_York",
    )
    assert stored.date_of_birth != date(1970, 1, 1)


def test_every_refused_field_is_named(client, world):
    body = {"name": "Self Named", "date_of_birth": "1970-01-01"}

    response = patch(client, world.patient, world.patient.id, body, own_etag(client, world))

    assert sorted(assert_problem(response, 403)["errors"]) == ["date_of_birth", "name"]


def test_the_care_team_still_changes_every_field(client, world):
    body = {"name": "Pat Renamed", "date_of_birth": "1970-01-01", **OWN_CHANGES}
    current = etag(client, world.clinician.headers, world.patient.id)

    response = patch(client, world.clinician, world.patient.id, body, current)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["name"] == "Pat Renamed"


@pytest.mark.parametrize("if_match", [None, '"v1"'], ids=["no-if-match", "if-match"])
def test_another_patient_s_record_answers_as_a_missing_one(app, client, world, if_match):
    """Not 403 for a staff-only field, nor 428 or 412: only one's own record is checked."""
    for body in (OWN_CHANGES, {"name": "Foreign"}):
        foreign = patch(client, world.other_patient, world.patient.id, body, if_match)
        missing = patch(client, world.other_patient, random_id(), body, if_match)

        assert assert_problem(foreign, 404) == assert_problem(missing, 404)
    assert stored_patient(app, world.patient.id).timezone == "America/New_York"


def test_without_if_match_the_patient_gets_428_and_with_a_stale_one_412(app, client, world):
    current = own_etag(client, world)

    assert_problem(patch(client, world.patient, world.patient.id, OWN_CHANGES), 428)
    assert_problem(patch(client, world.patient, world.patient.id, OWN_CHANGES, "*"), 428)
    assert patch(client, world.patient, world.patient.id, OWN_CHANGES, current).status_code == 200
    stale = patch(client, world.patient, world.patient.id, {"timezone": "Asia/Tokyo"}, current)

    assert_problem(stale, 412)
    assert stored_patient(app, world.patient.id).timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"emergency_contact": {"phone": "call me"}}, "emergency_contact"),
        ({"emergency_contact": {"name": ""}}, "emergency_contact"),
        ({"emergency_contact": None}, "emergency_contact"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_bad_input_is_422_naming_the_field(app, client, world, body, field):
    response = patch(client, world.patient, world.patient.id, body, own_etag(client, world))

    assert_problem(response, 422, field)
    assert stored_patient(app, world.patient.id).timezone == "America/New_York"


def test_a_time_zone_change_by_the_patient_moves_the_next_reminders(app, client, world):
    """A daily mood check-in at 09:00: reminded at 09:00 and 13:00 New York time (14:00 and
    18:00 UTC) on the 2nd; the patient moves to Berlin in the evening of the 2nd; on the 3rd
    the reminders come at 09:00 and 13:00 Berlin time (08:00 and 12:00 UTC)."""
    with frozen(app, utc(2026, 12, 2, 4, 0)) as clock:
        put_plan(
            client,
            clock.headers(world.clinician),
            world.patient.id,
            plan(item("mood", starts_on="2026-12-02")),
        )
        moment, end = utc(2026, 12, 2, 5, 0), utc(2026, 12, 3, 23, 0)
        while moment < end:
            clock.move_to(moment)
            if moment == utc(2026, 12, 3, 2, 0):  # 21:00 in New York
                headers = clock.headers(world.patient)
                url = patient_url(world.patient.id)
                current = client.get(url, headers=headers).headers["ETag"]
                moved = client.patch(
                    url,
                    json={"timezone": "Europe/Berlin"},
                    headers=with_if_match(headers, current),
                )
                assert moved.status_code == 200, moved.get_json()
            tick(app)
            moment += timedelta(minutes=15)

    sent = reminders(app, world.patient, "UTC")
    assert [(r.occurrence, r.number, r.local.replace(tzinfo=None)) for r in sent] == [
        (date(2026, 12, 2), 1, datetime(2026, 12, 2, 14)),
        (date(2026, 12, 2), 2, datetime(2026, 12, 2, 18)),
        (date(2026, 12, 3), 1, datetime(2026, 12, 3, 8)),
        (date(2026, 12, 3), 2, datetime(2026, 12, 3, 12)),
    ]
