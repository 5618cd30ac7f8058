"""The clinician's sessions as an iCalendar feed. Calendars sync to phones and third-party
servers, so the feed names patients by initials only and carries no health details."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from icalendar import Calendar, Event

from telehealth.sessions.models import SessionStatus, TreatmentSession

UID_DOMAIN = "sessions.telehealth"


def initials(name: str) -> str:
    return "".join(f"{part[0].upper()}." for part in name.split() if part[:1].isalpha())


def render(sessions: Iterable[TreatmentSession], *, now: datetime) -> bytes:
    feed = Calendar()
    feed.add("prodid", "-//Telehealth//Treatment sessions//EN")
    feed.add("version", "2.0")
    feed.add("x-wr-calname", "Treatment sessions")
    for treatment in sessions:
        event = Event()
        event.add("uid", f"{treatment.id}@{UID_DOMAIN}")
        event.add("dtstamp", now)
        event.add("dtstart", treatment.scheduled_start)
        event.add("dtend", treatment.scheduled_end)
        event.add(
            "summary",
            f"Treatment session ({treatment.modality.value}) - {initials(treatment.patient.name)}",
        )
        event.add("sequence", treatment.version)
        event.add(
            "status",
            "CANCELLED" if treatment.status is SessionStatus.CANCELLED else "CONFIRMED",
        )
        feed.add_component(event)
    ical: bytes = feed.to_ical()
    return ical
