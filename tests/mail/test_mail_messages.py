"""What each event's email says: "there is something to review", identifiers and a link, and
nothing else of the event (a pure function, tested without a database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from telehealth.accounts.models import Role
from telehealth.mail.messages import (
    INVITATION_SUBJECT,
    REMINDER_SUBJECT,
    REVIEW_SUBJECT,
    InvitationLink,
    compose,
    identifiers,
)
from telehealth.outbound.models import ACCOUNT_EVENTS, EventType

PUBLIC_URL = "https://app.clinic.example"
SENTINEL = "SENTINEL-7f3a-HEALTH-TEXT"
ALERT_ID, SESSION_ID, PATIENT_ID = (str(uuid.uuid4()) for _ in range(3))

#: An event's data as the outbox may hold it, with everything an email must not repeat.
DATA = {
    "alert_id": ALERT_ID,
    "session_id": SESSION_ID,
    "patient_id": PATIENT_ID,
    "kind": "suicidal_ideation",
    "priority": 1,
    "escalation_level": 1,
    "source_type": "checkin",
    "source_id": str(uuid.uuid4()),
    "instrument": "PHQ-9",
    "scheduled_start": "2026-12-02T13:00:00+00:00",
    "checkpoint": "plus_40",
    "status": "scheduled",
    "note": SENTINEL,
    "reason": SENTINEL,
    "score": 27,
}
#: Account emails (invitation, password reset) carry a link of their own: tested apart.
EVENTS = [event for event in EventType if event not in ACCOUNT_EVENTS]
#: Words that would tell a reader what the event is about, health-wise.
#: (A number would match inside a random UUID; none is copied, see the identifiers test.)
HEALTH_WORDS = ["suicid", "ideation", "phq", "score", "vital", "adverse", "mood", "severe"]


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.ADMIN, Role.PATIENT])
@pytest.mark.parametrize("event_type", EVENTS)
def test_every_email_gives_identifiers_and_nothing_of_the_event(event_type, role):
    email = compose(event_type, DATA, role, public_url=PUBLIC_URL)

    text = email.subject + "\n" + email.body
    assert SENTINEL not in text
    for word in HEALTH_WORDS:
        assert word not in text.lower(), word
    assert "13:00" not in text  # not even when a session starts
    for value in (ALERT_ID, SESSION_ID, PATIENT_ID):
        assert value in email.body
    assert f"{PUBLIC_URL}/alerts/{ALERT_ID}" in email.body
    if event_type is EventType.SESSION_REMINDER:
        assert email.subject == REMINDER_SUBJECT
    elif event_type is EventType.ALERT_ESCALATED:
        assert email.subject == "Escalation (level 1): there is something to review"
    else:
        assert email.subject == REVIEW_SUBJECT
    assert "no health information" in email.body


def test_the_link_opens_the_alert_else_the_session_else_the_patient():
    def link(**data: str) -> str:
        body = compose(EventType.ALERT_RAISED, data, Role.CLINICIAN, public_url=PUBLIC_URL).body
        return next(line for line in body.splitlines() if line.startswith("Open it: "))

    assert link(alert_id=ALERT_ID, session_id=SESSION_ID).endswith(f"/alerts/{ALERT_ID}")
    assert link(session_id=SESSION_ID, patient_id=PATIENT_ID).endswith(f"/sessions/{SESSION_ID}")
    assert link(patient_id=PATIENT_ID).endswith(f"/patients/{PATIENT_ID}")
    assert link() == f"Open it: {PUBLIC_URL}/"
    trailing = compose(EventType.ALERT_RAISED, {}, Role.CLINICIAN, public_url=PUBLIC_URL + "/")
    assert f"{PUBLIC_URL}//" not in trailing.body


def test_only_ids_that_are_uuids_are_copied():
    """A field named like an identifier but holding text is dropped, not quoted."""
    data = {"alert_id": SENTINEL, "session_id": 4242424242, "patient_id": PATIENT_ID}

    assert identifiers(data) == {"patient_id": PATIENT_ID}
    email = compose(EventType.ALERT_RAISED, data, Role.CLINICIAN, public_url=PUBLIC_URL)
    assert SENTINEL not in email.body
    assert "4242424242" not in email.body  # not in a random UUID, unlike a short number


@pytest.mark.parametrize(
    ("level", "who"), [(1, "care team is told again"), (2, "on-call admins are told")]
)
def test_an_escalation_says_so_and_its_level(level, who):
    email = compose(
        EventType.ALERT_ESCALATED,
        {**DATA, "escalation_level": level},
        Role.ADMIN,
        public_url=PUBLIC_URL,
    )

    assert email.subject == f"Escalation (level {level}): there is something to review"
    assert f"escalated (level {level})" in email.body
    assert who in email.body
    assert ALERT_ID in email.body


def test_an_escalation_without_a_readable_level_still_says_it_is_one():
    email = compose(
        EventType.ALERT_ESCALATED,
        {"alert_id": ALERT_ID, "escalation_level": SENTINEL},
        Role.CLINICIAN,
        public_url=PUBLIC_URL,
    )

    assert email.subject == "Escalation: there is something to review"
    assert SENTINEL not in email.body


def test_a_patient_is_told_there_is_something_for_them():
    email = compose(EventType.CHECKIN_DUE, {"patient_id": PATIENT_ID}, Role.PATIENT,
                    public_url=PUBLIC_URL)  # fmt: skip

    assert email.subject == REVIEW_SUBJECT
    assert "something for you" in email.body


@pytest.mark.parametrize(
    ("role", "opening"),
    [(Role.PATIENT, "Your care team has created"), (Role.CLINICIAN, "The clinic has created")],
)
def test_an_invitation_carries_its_activation_link_and_token(role, opening):
    token = "tok-EN_123"
    expires = datetime(2026, 12, 8, 12, 30, tzinfo=UTC)

    email = compose(
        EventType.ACCOUNT_INVITED,
        {"user_id": str(uuid.uuid4())},
        role,
        public_url=PUBLIC_URL,
        invitation=InvitationLink(token=token, expires_at=expires),
    )

    assert email.subject == INVITATION_SUBJECT
    assert email.body.startswith(opening)
    assert f"{PUBLIC_URL}/activate?token={token}\n" in email.body
    assert f"invitation code in the app: {token}\n" in email.body
    assert "2026-12-08 12:30 UTC" in email.body


def test_an_invitation_email_needs_its_token():
    with pytest.raises(ValueError, match="token"):
        compose(EventType.ACCOUNT_INVITED, {}, Role.PATIENT, public_url=PUBLIC_URL)


def test_the_same_event_always_reads_the_same():
    first = compose(EventType.ALERT_RAISED, DATA, Role.CLINICIAN, public_url=PUBLIC_URL)
    again = compose(EventType.ALERT_RAISED, dict(DATA), Role.CLINICIAN, public_url=PUBLIC_URL)

    assert first == again
