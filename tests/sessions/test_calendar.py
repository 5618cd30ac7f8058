"""GET /api/v1/calendar.ics: a clinician's upcoming sessions as iCalendar. Calendars sync to
phones and third-party servers, so patients appear by initials only and nothing else about them
or their health is in the feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from tests.factories import make_patient
from tests.sessions.helpers import (
    API,
    CALENDAR,
    MONITOR,
    act,
    assert_problem,
    etag,
    frozen_at,
    patch,
    scheduled,
    utc,
)

NOW = utc(2026, 11, 25, 12, 0)


def fetch(client, actor):
    response = client.get(CALENDAR, headers=actor.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    return response


def events_of(response):
    """The feed's events by UID."""
    feed = Calendar.from_ical(response.get_data())
    return {str(event["UID"]): event for event in feed.walk("VEVENT")}


def unfolded(response):
    """The feed's text with folded lines joined (RFC 5545 section 3.1), so a name cannot hide
    across a line break."""
    return response.get_data(as_text=True).replace("\r\n ", "").replace("\r\n\t", "")


def uid(session):
    return f"{session['id']}@sessions.telehealth"


def feed_at(app, client, actor, moment=NOW):
    with frozen_at(app, moment, actor) as (signed_in,):
        return fetch(client, signed_in)


def test_a_clinician_gets_their_upcoming_sessions(app, client, world):
    first = scheduled(client, world.clinician, world.patient.id, "2026-12-01T14:00:00+01:00")
    second = scheduled(client, world.clinician, world.patient.id, "2026-12-02T09:00:00-05:00", 60)

    events = events_of(feed_at(app, client, world.clinician))

    assert set(events) == {uid(first), uid(second)}
    event = events[uid(first)]
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    assert start.utcoffset() == timedelta(0)
    assert end == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert events[uid(second)].decoded("DTSTART") == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    assert str(event["SUMMARY"]).endswith("P.A.")
    assert "video" in str(event["SUMMARY"])
    assert str(event["STATUS"]) == "CONFIRMED"


def test_the_feed_writes_start_times_in_utc(app, client, world):
    scheduled(client, world.clinician, world.patient.id, "2026-12-01T14:00:00+01:00")

    text = unfolded(feed_at(app, client, world.clinician))

    assert "DTSTART:20261201T130000Z" in text
    assert "TZID" not in text


def test_uids_are_stable_across_fetches(app, client, world):
    booked = scheduled(client, world.clinician, world.patient.id)

    first = events_of(feed_at(app, client, world.clinician))
    second = events_of(feed_at(app, client, world.clinician, NOW + timedelta(hours=1)))

    assert list(first) == list(second) == [uid(booked)]


def test_a_rescheduled_session_keeps_its_uid_and_moves(app, client, world):
    booked = scheduled(client, world.clinician, world.patient.id, "2026-12-01T13:00:00Z")
    before = events_of(feed_at(app, client, world.clinician))[uid(booked)]
    tag = etag(client, world.clinician, booked["id"])
    moved = patch(
        client, world.clinician, booked["id"], {"scheduled_start": "2026-12-04T10:00:00Z"}, tag
    )
    assert moved.status_code == 200

    after = events_of(feed_at(app, client, world.clinician))[uid(booked)]

    assert after.decoded("DTSTART") == datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    # Calendar clients take the update only if its SEQUENCE went up.
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])


def test_only_the_clinicians_own_sessions_are_in_the_feed(app, client, world):
    # world.other_clinician joins world.patient's team and books a session for them; it is not
    # world.clinician's session, although world.clinician can see it.
    client.put(
        f"{API}/patients/{world.patient.id}/care-team/{world.other_clinician.id}",
        headers=world.clinician.headers,
    )
    mine = scheduled(client, world.clinician, world.patient.id, "2026-12-01T13:00:00Z")
    colleagues = scheduled(client, world.other_clinician, world.patient.id, "2026-12-01T16:00:00Z")
    theirs = scheduled(client, world.other_clinician, world.other_patient.id)

    assert set(events_of(feed_at(app, client, world.clinician))) == {uid(mine)}
    assert set(events_of(feed_at(app, client, world.other_clinician))) == {
        uid(colleagues),
        uid(theirs),
    }
    assert events_of(feed_at(app, client, world.lone_clinician)) == {}


@pytest.mark.parametrize(
    ("start", "duration", "listed"),
    [
        ("2026-11-25T09:00:00Z", 120, False),  # ended two hours ago
        ("2026-11-25T10:00:00Z", 120, True),  # ends right now
        ("2026-11-25T11:00:00Z", 120, True),  # under way
        ("2026-11-25T12:00:00Z", 60, True),  # starts right now
        ("2027-02-22T11:59:00Z", 60, True),  # almost three months ahead
    ],
)
def test_upcoming_means_not_yet_ended(app, client, world, start, duration, listed):
    # Booked the day before, since a session cannot be booked in the past.
    with frozen_at(app, NOW - timedelta(days=1), world.clinician) as (clinician,):
        booked = scheduled(client, clinician, world.patient.id, start, duration)

    events = events_of(feed_at(app, client, world.clinician))

    assert (uid(booked) in events) is listed


def test_cancelled_sessions_stay_in_the_feed_marked_cancelled(app, client, world):
    kept = scheduled(client, world.clinician, world.patient.id, "2026-12-01T13:00:00Z")
    dropped = scheduled(client, world.clinician, world.patient.id, "2026-12-02T13:00:00Z")
    assert act(client, world.clinician, dropped["id"], "cancel").status_code == 200

    response = feed_at(app, client, world.clinician)
    events = events_of(response)

    assert str(events[uid(dropped)]["STATUS"]) == "CANCELLED"
    assert str(events[uid(kept)]["STATUS"]) == "CONFIRMED"
    assert "STATUS:CANCELLED" in unfolded(response)


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("Pat Able", "P.A."),
        ("maria de la cruz", "M.D.L.C."),
        ("Zoë Østergaard", "Z.Ø."),
        ("Prince", "P."),
    ],
)
def test_patients_appear_by_initials_only(app, client, world, name, initials):
    patient = make_patient(app, world.clinician.user, name=name, email="someone@example.test")
    booked = scheduled(client, world.clinician, str(patient.id), notes="Anxious about needles.")

    response = feed_at(app, client, world.clinician)
    summary = str(events_of(response)[uid(booked)]["SUMMARY"])
    text = unfolded(response)

    assert summary.endswith(f" {initials}")
    assert name not in text
    assert name.lower() not in text.lower()
    assert "someone@example.test" not in text.lower()


def test_the_feed_carries_no_names_contacts_or_notes(app, client, world):
    scheduled(
        client,
        world.clinician,
        world.patient.id,
        notes="Discussed PHQ-9 of 18 and suicidal thoughts.",
    )

    response = feed_at(app, client, world.clinician)
    text = unfolded(response).lower()
    feed = Calendar.from_ical(response.get_data())
    values = " ".join(
        str(value) for component in feed.walk() for value in component.values()
    ).lower()

    for secret in (
        "Pat Able",
        "Able",
        world.patient.user.email,
        world.patient.id,
        MONITOR["name"],
        MONITOR["phone"],
        "PHQ-9",
        "suicidal",
        "+1 555 0100",  # the patient's emergency contact
    ):
        assert secret.lower() not in text, secret
        assert secret.lower() not in values, secret


@pytest.mark.parametrize("who", ["patient", "admin"])
def test_patients_and_admins_get_no_calendar(client, world, who):
    assert_problem(client.get(CALENDAR, headers=getattr(world, who).headers), 403)


def test_the_calendar_needs_a_token(client, world):
    assert_problem(client.get(CALENDAR), 401)
