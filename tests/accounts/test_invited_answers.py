"""A new account's answer is written from an `Invited` pair, the record and its one-time token:
the record as its own output schema writes it, then the token, which only a deployment that
returns invitation tokens writes."""

from __future__ import annotations

import uuid

import pytest

from telehealth.accounts import service as accounts
from telehealth.accounts.schemas import ClinicianOut, InvitedClinicianOut
from telehealth.extensions import db


@pytest.fixture
def invited(app):
    with app.app_context(), db.begin() as session:
        pair = accounts.create_clinician(
            session, email=f"invited-{uuid.uuid4().hex[:8]}@example.test", name="Dr. Ina Vite"
        )
        yield pair


def test_the_answer_is_the_record_as_its_schema_writes_it_then_the_token(invited):
    written = InvitedClinicianOut().dump(invited)

    assert written == {
        **ClinicianOut().dump(invited.record),
        "invitation_token": invited.invitation_token,
    }
    assert list(written)[-1] == "invitation_token"


def test_without_returned_tokens_the_answer_is_the_record_alone(app, invited):
    app.config["RETURN_INVITATION_TOKEN"] = False
    try:
        written = InvitedClinicianOut().dump(invited)
    finally:
        app.config["RETURN_INVITATION_TOKEN"] = True

    assert written == ClinicianOut().dump(invited.record)
