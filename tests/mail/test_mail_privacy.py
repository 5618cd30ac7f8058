"""Nothing of a patient's health or identity leaves in an email: a check-in, a note, an adverse
event and an acknowledgement carrying a sentinel string, alerts raised, escalated to both
levels, a session reminder and an invitation: every email that reaches the SMTP server says
there is something to review and gives ids, and neither the sentinel nor the patient's name
appears anywhere in what travelled (headers included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from telehealth.alerts.models import SafetyAlert
from telehealth.alerts.service import event_data
from telehealth.extensions import db
from telehealth.mail.messages import INVITATION_SUBJECT, REMINDER_SUBJECT, REVIEW_SUBJECT
from telehealth.outbound.models import DeliveryStatus, EventType
from tests.alerts.alert_helpers import add_note, open_session
from tests.factories import make_patient, sign_in
from tests.mail.mail_helpers import deliver_emails, emit_event

SENTINEL = "ZQX-SENTINEL-4471-free-text"
NAME = "Marigold Sentinelname"
INVITED_NAME = "Bartholomew Invitedname"
PUBLIC_URL = "https://app.clinic.example"


def test_no_email_carries_health_text_or_a_name(app, client, world, email_on, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC_URL)
    patient = sign_in(app, make_patient(app, world.clinician.user, name=NAME).user)
    # A check-in with free text and PHQ-9 item 9 answered: a suicidal-ideation alert.
    checkin = client.post(
        "/api/v1/checkins",
        headers=patient.headers,
        json={
            "recorded_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "mood": 2,
            "note": SENTINEL,
            "instruments": {"PHQ-9": [0, 1, 0, 1, 0, 0, 0, 0, 1]},
        },
    )
    assert checkin.status_code == 201, checkin.get_json()
    # A note with free text, flagged vitals and a serious adverse event: two more alerts.
    session_id = open_session(client, world.clinician, patient)
    add_note(
        client,
        world.clinician.headers,
        session_id,
        text=SENTINEL,
        vitals={"systolic": 171, "diastolic": 90},
        adverse_event={
            "description": SENTINEL,
            "severity": "severe",
            "serious": True,
            "emergency_care": True,
            "action_taken": SENTINEL,
        },
    )
    with app.app_context(), db.begin() as session:
        alerts = session.scalars(
            select(SafetyAlert).where(SafetyAlert.patient_id == patient.user.id)
        ).all()
        raised = {alert.id: event_data(alert) for alert in alerts}
    assert len(raised) == 3
    # Escalations to both levels, a reminder, an acknowledgement with a note, an invitation.
    first, *_ = raised
    emit_event(
        app,
        EventType.ALERT_ESCALATED,
        {**raised[first], "escalation_level": 1},
        [world.clinician.user.id],
    )
    emit_event(
        app, EventType.ALERT_ESCALATED, {**raised[first], "escalation_level": 2}, [world.admin.id]
    )
    emit_event(
        app,
        EventType.SESSION_REMINDER,
        {"session_id": session_id, "patient_id": patient.id, "hours_before": 1},
        [patient.user.id, world.clinician.user.id],
    )
    acknowledged = client.post(
        f"/api/v1/alerts/{first}/acknowledge",
        headers=world.clinician.headers,
        json={"note": SENTINEL},
    )
    assert acknowledged.status_code == 200, acknowledged.get_json()
    invited = client.post(
        "/api/v1/patients",
        headers=world.clinician.headers,
        json={
            "email": "invited.patient@example.test",
            "name": INVITED_NAME,
            "date_of_birth": "1980-01-02",
            "timezone": "Europe/Berlin",
            "emergency_contact": {"name": SENTINEL, "phone": "+1 555 0100"},
        },
    )
    assert invited.status_code == 201, invited.get_json()

    deliveries = deliver_emails(app)

    # The made-up patient's own invitation was refused (its password was set by the factory).
    delivered = [d for d in deliveries if d.status is DeliveryStatus.DELIVERED]
    mails = email_on.wait_for(len(delivered))
    assert len(mails) == len(delivered) >= 3 + 2 + 2 + 1
    subjects = {mail.subject for mail in mails}
    assert subjects == {
        REVIEW_SUBJECT,
        REMINDER_SUBJECT,
        INVITATION_SUBJECT,
        "Escalation (level 1): there is something to review",
        "Escalation (level 2): there is something to review",
    }
    for mail in mails:
        for secret in (SENTINEL, NAME, INVITED_NAME, "Marigold", "Bartholomew"):
            assert secret not in mail.text, (secret, mail.subject)
        for word in ("suicid", "adverse", "vital", "phq"):
            assert word not in mail.body.lower(), (word, mail.subject)
    to_clinician = "\n".join(m.body for m in email_on.to(world.clinician.user.email))
    for alert_id in raised:
        assert f"{PUBLIC_URL}/alerts/{alert_id}" in to_clinician
