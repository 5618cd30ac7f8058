"""The clinician's sessions as an iCalendar feed. Calendars sync to phones and third-party
servers, so the feed names patients by initials only and carries no health details.

Both ways to read it build it here: the Bearer-authenticated `GET /calendar.ics` and the secret
subscription URL that calendar apps poll without a header (`telehealth.calendar`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from flask import Response
from icalendar import Calendar, Event, vDuration
from sqlalchemy.orm import Session

from telehealth.accounts.models import User
from telehealth.db import utcnow
from telehealth.sessions.models import SessionStatus, TreatmentSession
from telehealth.sessions.service import upcoming_for_clinician

UID_DOMAIN = "sessions.telehealth"
#: How often calendar apps are asked to fetch the feed again (most poll on their own schedule).
REFRESH_INTERVAL = timedelta(hours=1)
#: The feed's body and media type, for the routes' `@blp.response`.
ICALENDAR: dict[str, str] = {"type": "string"}
ICALENDAR_TYPE = "text/calendar"
FEED_ANSWER = "The clinician's upcoming sessions as an iCalendar (RFC 5545) feed."


def initials(name: str) -> str:
    return "".join(f"{part[0].upper()}." for part in name.split() if part[:1].isalpha())


def render(sessions: Iterable[TreatmentSession]) -> bytes:
    feed = Calendar()
    feed.add("prodid", "-//Telehealth//Treatment sessions//EN")
    feed.add("version", "2.0")
    feed.add("x-wr-calname", "Treatment sessions")
    feed.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    feed.add("x-published-ttl", vDuration(REFRESH_INTERVAL))  # Outlook reads this one
    for treatment in sessions:
        event = Event()
        # The same UID on every fetch, and a SEQUENCE that grows with every change (the row's
        # version), so calendar apps update the event in place: moved, or cancelled.
        event.add("uid", f"{treatment.id}@{UID_DOMAIN}")
        # Without a METHOD, DTSTAMP is when the event last changed (RFC 5545 section 3.8.7.2).
        event.add("dtstamp", treatment.updated_at)
        event.add("created", treatment.created_at)
        event.add("last-modified", treatment.updated_at)
        event.add("dtstart", treatment.scheduled_start)
        event.add("dtend", treatment.scheduled_end)
        event.add(
            "summary",
            f"Treatment session ({treatment.modality.value}) - {initials(treatment.patient.name)}",
        )
        event.add("sequence", treatment.version)
        cancelled = treatment.status is SessionStatus.CANCELLED
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        # A cancelled session keeps no time busy.
        event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
        feed.add_component(event)
    ical: bytes = feed.to_ical()
    return ical


def feed_response(session: Session, clinician: User) -> Response:
    """The clinician's feed as an HTTP answer."""
    ics = render(upcoming_for_clinician(session, clinician, now=utcnow()))
    return Response(
        ics,
        mimetype=ICALENDAR_TYPE,
        headers={"Content-Disposition": 'inline; filename="sessions.ics"'},
    )
