"""Helpers of the calendar subscription tests: subscribing, fetching a feed URL as a calendar
app does (no header at all), and reading the feed with `icalendar`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from icalendar import Calendar
from werkzeug.test import TestResponse

from tests.factories import Actor
from tests.problems import assert_problem

API = "/api/v1"
SUBSCRIPTION = f"{API}/calendar/subscription"
FEEDS = f"{API}/calendar/feeds/"


def subscribe(client: FlaskClient, actor: Actor) -> str:
    """POST /calendar/subscription as `actor`, asserting 201; the feed URL."""
    response = client.post(SUBSCRIPTION, headers=actor.headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert set(response.get_json()) == {"url"}
    return str(response.get_json()["url"])


def secret_of(url: str) -> str:
    path = urlsplit(url).path
    assert path.startswith(FEEDS) and path.endswith(".ics"), url
    return path.removeprefix(FEEDS).removesuffix(".ics")


def fetch(client: FlaskClient, url: str, **kwargs: Any) -> TestResponse:
    """GET the feed URL as a calendar app does: no Authorization header, no cookies."""
    return client.get(urlsplit(url).path, **kwargs)


def feed_events(client: FlaskClient, url: str) -> dict[str, Any]:
    """The feed's events by UID, asserting it answers 200 with an iCalendar body."""
    response = fetch(client, url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.get_data())
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def assert_gone(client: FlaskClient, url: str) -> dict[str, Any]:
    """The URL opens nothing: 404, the same problem as for a secret never handed out."""
    body = assert_problem(fetch(client, url), 404)
    unknown = assert_problem(fetch(client, f"{FEEDS}{'x' * 43}.ics"), 404)
    assert body == unknown
    return body


def uid(session: dict[str, Any]) -> str:
    return f"{session['id']}@sessions.telehealth"
