"""Shared by the schedule tests: URLs, plan bodies, a scheduler tick on the test's connection,
and what the ticks left behind (reminders, `checkin.*` events, missed-check-in alerts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from telehealth.alerts.models import AlertKind, SafetyAlert
from telehealth.extensions import db
from telehealth.outbound.models import EventType, OutboxEvent
from telehealth.schedules.models import CheckinReminder
from telehealth.schedules.tick import run_schedules
from tests.factories import Actor

API = "/api/v1"
DUE = f"{API}/me/due"
PHQ9_MILD = [1, 1, 1, 1, 1, 1, 0, 0, 0]
GAD7_MILD = [1, 1, 1, 1, 1, 0, 0]


def schedule_url(patient_id: str) -> str:
    return f"{API}/patients/{patient_id}/schedule"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def item(instrument: str, every: str = "day", at: str = "09:00", **more: Any) -> dict[str, Any]:
    return {"instrument": instrument, "every": every, "at": at, **more}


def plan(*items: dict[str, Any], reminders: bool = True) -> dict[str, Any]:
    return {"reminders": reminders, "items": list(items)}


def put_plan(
    client: FlaskClient, headers: dict[str, str], patient_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = client.put(schedule_url(patient_id), json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def checkin(
    client: FlaskClient, headers: dict[str, str], moment: datetime, **body: Any
) -> dict[str, Any]:
    """A check-in recorded at `moment` (mood 6 unless given), asserting 201."""
    response = client.post(
        f"{API}/checkins",
        json={"recorded_at": moment.isoformat(), "mood": 6, **body},
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def due(client: FlaskClient, headers: dict[str, str]) -> list[tuple[str, str, str]]:
    """GET /me/due as (instrument, status, due_at_local), asserting 200."""
    response = client.get(DUE, headers=headers)
    assert response.status_code == 200, response.get_json()
    return [
        (entry["instrument"], entry["status"], entry["due_at_local"])
        for entry in response.get_json()["items"]
    ]


def tick(app: Flask) -> tuple[int, int]:
    """One scheduler pass, as the worker's periodic check runs it: its own transaction."""
    with app.app_context(), db.begin() as session:
        return run_schedules(session, app.config)


@dataclass(frozen=True)
class Sent:
    """A reminder as the patient got it: which item, its occurrence, first or second, and
    when, in the patient's zone."""

    instrument: str
    occurrence: date
    number: int
    local: datetime

    @property
    def at(self) -> time:
        return self.local.time()


def reminders(app: Flask, patient: Actor, zone: str) -> list[Sent]:
    with app.app_context():
        rows = db.session.scalars(
            select(CheckinReminder)
            .where(CheckinReminder.patient_id == patient.user.id)
            .order_by(CheckinReminder.sent_at, CheckinReminder.instrument)
        ).all()
    return [
        Sent(row.instrument, row.occurrence, row.number, row.sent_at.astimezone(ZoneInfo(zone)))
        for row in rows
    ]


def events(app: Flask, type_: EventType, patient: Actor | None = None) -> list[OutboxEvent]:
    with app.app_context():
        found = db.session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == type_).order_by(OutboxEvent.created_at)
        ).all()
        db.session.expunge_all()
    if patient is None:
        return list(found)
    return [event for event in found if event.data.get("patient_id") == patient.id]


def missed_alerts(app: Flask, patient: Actor) -> list[SafetyAlert]:
    with app.app_context():
        found = db.session.scalars(
            select(SafetyAlert)
            .where(
                SafetyAlert.patient_id == patient.user.id,
                SafetyAlert.kind == AlertKind.MISSED_CHECKINS,
            )
            .order_by(SafetyAlert.created_at)
        ).all()
        db.session.expunge_all()
    return list(found)
