"""GET /me/notifications and POST /me/notifications/{id}/read: every user's own inbox, and
nobody else's."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from telehealth.extensions import db
from telehealth.outbound.dispatch import fan_out
from telehealth.outbound.models import OutboxEvent
from tests.alerts.alert_helpers import suicidal_ideation
from tests.problems import assert_problem

INBOX = "/api/v1/me/notifications"


def read_url(notification_id: str) -> str:
    return f"{INBOX}/{notification_id}/read"


def fan_out_everything(app: Flask) -> None:
    with app.app_context(), db.begin() as session:
        for event_id in session.scalars(select(OutboxEvent.id)).all():
            fan_out(session, event_id)


def inbox(client: Any, actor: Any, **query: Any) -> dict[str, Any]:
    response = client.get(INBOX, headers=actor.headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def alerted(app: Flask, client: Any, world: Any) -> dict[str, Any]:
    """A suicidal-ideation alert of world.patient, fanned out to the care team's inbox."""
    (alert,) = suicidal_ideation(client, world.patient)["alerts"]
    fan_out_everything(app)
    return alert  # type: ignore[no-any-return]


def test_the_care_team_finds_the_alert_in_its_inbox(client, world, alerted):
    (entry,) = inbox(client, world.clinician)["items"]

    assert entry["kind"] == "alert.raised"
    assert entry["alert_id"] == alerted["id"]
    assert entry["read_at"] is None
    assert "review" in entry["body"]
    assert "suicidal ideation" in entry["title"]
    assert set(entry) == {
        "id", "kind", "title", "body", "created_at", "read_at", "alert_id", "session_id"
    }  # fmt: skip


@pytest.mark.parametrize("who", ["other_clinician", "lone_clinician", "patient", "admin"])
def test_nobody_else_gets_it(client, world, alerted, who):
    assert inbox(client, getattr(world, who))["items"] == []


def test_reading_marks_it_read_once(client, world, alerted):
    (entry,) = inbox(client, world.clinician)["items"]

    first = client.post(read_url(entry["id"]), headers=world.clinician.headers, json={})
    again = client.post(read_url(entry["id"]), headers=world.clinician.headers)

    assert first.status_code == 200, first.get_json()
    assert first.get_json()["read_at"] is not None
    assert again.get_json()["read_at"] == first.get_json()["read_at"]
    assert inbox(client, world.clinician)["items"][0]["read_at"] == first.get_json()["read_at"]


@pytest.mark.parametrize("who", ["other_clinician", "patient", "admin"])
def test_anyone_elses_entry_is_the_same_404_as_a_missing_one(client, world, alerted, who):
    (entry,) = inbox(client, world.clinician)["items"]
    actor = getattr(world, who)

    foreign = client.post(read_url(entry["id"]), headers=actor.headers)
    missing = client.post(read_url(str(uuid.uuid4())), headers=actor.headers)

    assert assert_problem(foreign, 404) == assert_problem(missing, 404)
    assert inbox(client, world.clinician)["items"][0]["read_at"] is None


def test_the_inbox_needs_a_token(client):
    assert_problem(client.get(INBOX), 401)
    assert_problem(client.post(read_url(str(uuid.uuid4()))), 401)


@pytest.mark.parametrize(
    ("query", "field"), [({"limit": 0}, "limit"), ({"cursor": "x" * 600}, "cursor")]
)
def test_bad_paging_is_422(client, world, query, field):
    assert_problem(
        client.get(INBOX, headers=world.clinician.headers, query_string=query), 422, field
    )


def test_a_body_on_read_is_refused(client, world, alerted):
    (entry,) = inbox(client, world.clinician)["items"]

    response = client.post(read_url(entry["id"]), headers=world.clinician.headers, json={"x": 1})

    assert_problem(response, 422)


def test_the_inbox_pages_newest_first(app, client, world):
    for _ in range(3):
        suicidal_ideation(client, world.patient)
    fan_out_everything(app)

    first = inbox(client, world.clinician, limit=2)
    second = inbox(client, world.clinician, limit=2, cursor=first["next_cursor"])

    entries = first["items"] + second["items"]
    assert len(entries) == 3 and second["next_cursor"] is None
    assert [e["created_at"] for e in entries] == sorted(
        (e["created_at"] for e in entries), reverse=True
    )
