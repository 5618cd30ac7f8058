"""Activation: a one-time, expiring invitation token sets the password and signs in."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from telehealth.accounts.models import Invitation
from tests.auth.helpers import (
    ACTIVATE,
    CLINICIANS,
    PATIENTS,
    STRONG_PASSWORD,
    assert_problem,
    assert_token_pair,
    database,
    login,
    who_am_i,
)
from tests.factories import Actor

NEW_PATIENT = {
    "email": "new.patient@example.test",
    "name": "Nina Newpatient",
    "date_of_birth": "1990-05-01",
    "timezone": "Europe/Berlin",
    "emergency_contact": {"name": "Ned Contact", "phone": "+49 30 1234567"},
}


def invite_clinician(client: FlaskClient, admin: Actor) -> dict[str, Any]:
    body = {"email": "new.doc@example.test", "name": "Dr. New"}
    response = client.post(CLINICIANS, json=body, headers=admin.headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    invited: dict[str, Any] = response.get_json()
    assert invited["invitation_token"]
    return invited


def activate(client: FlaskClient, token: str, password: str = STRONG_PASSWORD) -> TestResponse:
    return client.post(ACTIVATE, json={"token": token, "password": password})


def test_activation_sets_the_password_and_signs_in(client, world):
    invited = invite_clinician(client, world.admin)

    pair = assert_token_pair(activate(client, invited["invitation_token"]))

    me = who_am_i(client, pair["access_token"]).get_json()
    assert (me["id"], me["role"]) == (invited["id"], "clinician")
    assert_token_pair(login(client, invited["email"], STRONG_PASSWORD))
    assert_problem(login(client, invited["email"], "some other password"), 401)


def test_a_patient_activates_their_invitation_too(client, world):
    response = client.post(PATIENTS, json=NEW_PATIENT, headers=world.clinician.headers)
    assert response.status_code == 201, response.get_data(as_text=True)

    pair = assert_token_pair(activate(client, response.json["invitation_token"]))

    me = who_am_i(client, pair["access_token"]).get_json()
    assert (me["id"], me["role"]) == (response.json["id"], "patient")


def test_an_invitation_works_once(client, world):
    invited = invite_clinician(client, world.admin)
    assert_token_pair(activate(client, invited["invitation_token"]))

    assert_problem(activate(client, invited["invitation_token"], "an attacker's password"), 401)

    assert_problem(login(client, invited["email"], "an attacker's password"), 401)
    assert_token_pair(login(client, invited["email"], STRONG_PASSWORD))


def test_an_unknown_token_is_401(client):
    assert_problem(activate(client, "this-was-never-issued"), 401)


@pytest.mark.parametrize("password", ["", "elevenchars", " " * 12], ids=["empty", "11", "blank"])
def test_a_weak_password_is_422_and_leaves_the_invitation_usable(client, world, password):
    invited = invite_clinician(client, world.admin)

    body = assert_problem(activate(client, invited["invitation_token"], password), 422)

    assert "password" in body["errors"]
    assert_token_pair(activate(client, invited["invitation_token"], "x" * 12))


def test_an_invitation_expires_after_seven_days(app, client, world):
    assert app.config["INVITATION_TTL"] == timedelta(days=7)
    invited = invite_clinician(client, world.admin)
    issued = datetime.now(UTC)

    with time_machine.travel(issued + timedelta(days=7, minutes=1), tick=False):
        assert_problem(activate(client, invited["invitation_token"]), 401)
    with time_machine.travel(issued + timedelta(days=6, hours=23), tick=False):
        assert_token_pair(activate(client, invited["invitation_token"]))


@pytest.mark.parametrize("extra", [{"role": "admin"}, {"email": "someone@example.test"}])
def test_unknown_fields_are_422(client, world, extra):
    invited = invite_clinician(client, world.admin)
    body = {"token": invited["invitation_token"], "password": STRONG_PASSWORD, **extra}

    problem = assert_problem(client.post(ACTIVATE, json=body), 422)

    assert set(extra) <= problem["errors"].keys()
    assert_token_pair(activate(client, invited["invitation_token"]))


def test_only_the_hash_of_the_invitation_token_is_stored(app, client, world):
    invited = invite_clinician(client, world.admin)
    token = invited["invitation_token"]

    with database(app) as session:
        stored = session.scalars(
            select(Invitation.token_hash).where(Invitation.user_id == uuid.UUID(invited["id"]))
        ).all()

    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in stored[0]
