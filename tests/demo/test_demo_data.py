"""`flask demo-data`: the demo clinic, built through the services on a clock set back, as the
API then shows it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from telehealth import demo
from telehealth.accounts.models import User
from telehealth.alerts.models import AlertKind, AlertStatus, SafetyAlert
from telehealth.audit.models import AuditEvent
from telehealth.checkins.models import MoodCheckIn
from telehealth.demo.plan import PASSWORD, PATIENTS
from telehealth.extensions import db
from telehealth.monitoring.models import MonitoringNote
from telehealth.outbound.models import OutboxEvent
from telehealth.sessions.models import SessionStatus, TreatmentSession

COUNTED = (
    User,
    MoodCheckIn,
    TreatmentSession,
    MonitoringNote,
    SafetyAlert,
    AuditEvent,
    OutboxEvent,
)


def run_demo(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["demo-data", *args])


def counts(app: Flask) -> dict[str, int]:
    with app.app_context(), db.begin() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in COUNTED
        }


def sign_in(client: FlaskClient, email: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.json
    return {"Authorization": f"Bearer {answer.json['access_token']}"}


def patient_id(app: Flask, email: str) -> str:
    with app.app_context(), db.begin() as session:
        return str(session.scalar(select(User.id).where(User.email == email)))


def test_demo_data_builds_a_clinic_whose_outcomes_alerts_and_export_the_api_shows(
    app: Flask, client: FlaskClient
) -> None:
    outcome = run_demo(app)
    assert outcome.exit_code == 0, outcome.output
    assert "clinician@demo.example" in outcome.output
    assert f"the password of each: {PASSWORD}" in outcome.output

    built = counts(app)
    assert built["User"] == 1 + 3 + len(PATIENTS)
    assert built["MoodCheckIn"] > 600  # eight weeks of daily check-ins, less a silent spell
    with app.app_context(), db.begin() as session:
        statuses = dict(
            session.execute(
                select(TreatmentSession.status, func.count()).group_by(TreatmentSession.status)
            ).all()
        )
        alerts = session.execute(select(SafetyAlert.kind, SafetyAlert.status)).all()
    assert statuses[SessionStatus.COMPLETED] > 80
    assert statuses[SessionStatus.NO_SHOW] == 1
    assert statuses[SessionStatus.SCHEDULED] == len(PATIENTS)  # one coming session each
    kinds = {kind for kind, _ in alerts}
    assert {
        AlertKind.SUICIDAL_IDEATION,
        AlertKind.ADVERSE_EVENT,
        AlertKind.VITAL_SIGN,
        AlertKind.SEVERE_SCORE,
        AlertKind.DETERIORATION,
        AlertKind.MISSED_CHECKINS,
    } <= kinds
    assert {status for _, status in alerts} == {AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED}

    clinician = sign_in(client, "clinician@demo.example")
    riley = patient_id(app, "riley.chen@demo.example")
    outcomes = client.get(f"/api/v1/patients/{riley}/outcomes", headers=clinician)
    assert outcomes.status_code == 200
    phq9 = outcomes.json["PHQ-9"]
    assert len(phq9["series"]) >= 8
    assert phq9["deterioration"] is True
    open_alerts = client.get("/api/v1/alerts", headers=clinician).json["items"]
    assert {alert["kind"] for alert in open_alerts} >= {"deterioration", "missed_checkins"}
    export = client.get(f"/api/v1/patients/{riley}/export", headers=clinician)
    assert export.status_code == 200
    assert export.json["checkins"] and export.json["sessions"]

    # The positive item 9 raised the most urgent alert, taken on within minutes.
    avery = patient_id(app, "avery.brooks@demo.example")
    taken = client.get(
        "/api/v1/alerts",
        query_string={"status": "acknowledged", "kind": "suicidal_ideation"},
        headers=clinician,
    ).json["items"]
    assert [alert["patient_id"] for alert in taken] == [avery]
    raised_at, acknowledged_at = taken[0]["created_at"], taken[0]["acknowledged_at"]
    assert raised_at < acknowledged_at

    # A responder sees their own course.
    own = sign_in(client, "patient@demo.example")
    pat = patient_id(app, "patient@demo.example")
    mine = client.get(f"/api/v1/patients/{pat}/outcomes", headers=own).json["PHQ-9"]
    assert mine["response"] is True


def test_a_second_run_adds_nothing_and_the_audit_trail_is_as_the_routes_write_it(
    app: Flask,
) -> None:
    assert run_demo(app).exit_code == 0
    built = counts(app)

    again = run_demo(app)

    assert again.exit_code == 0
    assert "already there; nothing added" in again.output
    assert "clinician@demo.example" in again.output
    assert counts(app) == built
    verified = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert f"{built['AuditEvent']} events verified" in verified.output
    with app.app_context(), db.begin() as session:
        actions = dict(
            session.execute(
                select(AuditEvent.action, func.count()).group_by(AuditEvent.action)
            ).all()
        )
        unnamed = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action.in_(["checkin.create", "note.create", "session.create"]),
                AuditEvent.patient_id.is_(None),
            )
        )
    assert actions["checkin.create"] == built["MoodCheckIn"]
    assert actions["note.create"] == actions["note.sign"] == built["MonitoringNote"]
    assert {
        "patient.create",
        "auth.activate",
        "note.amend",
        "alert.acknowledge",
        "outcome.read",
    } <= set(actions)
    assert unnamed == 0  # each names its patient, so the patient's access log shows it


@pytest.mark.parametrize("how", ["environment", "settings"])
def test_demo_data_refuses_to_run_in_production(
    app: Flask, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "environment":
        monkeypatch.setenv("TELEHEALTH_ENV", "production")
    else:
        monkeypatch.setitem(app.config, "ENV_NAME", "production")

    outcome = run_demo(app)

    assert outcome.exit_code != 0
    assert "production" in outcome.output
    assert counts(app)["User"] == 0


def test_the_plan_is_the_same_all_day_and_ends_before_it() -> None:
    def shape(day: date, seed: int) -> list[tuple[str, str]]:
        return [(step.at.isoformat(), step.label) for step in demo.steps(day, seed)]

    assert shape(date(2026, 12, 1), 7) == shape(date(2026, 12, 1), 7)
    assert all(step.at.date() < date(2026, 12, 1) for step in demo.steps(date(2026, 12, 1)))
