"""The outbound half end to end, with the real worker: the API under gunicorn and two
`flask --app wsgi worker` processes (ticking every second) on a fresh database, email to a real
SMTP server (aiosmtpd) and signed webhooks to a real HTTP receiver, all on 127.0.0.1.

On the SQLite run the database and the task queue are SQLite files; on the PostgreSQL run
(`TEST_DATABASE_URL`) the database is PostgreSQL and the queue Redis. Escalation windows are
seconds long (`ALERT_ESCALATION_MINUTES`), webhook and email retries one second apart. Each test
registers a webhook endpoint of its own for its receiver and deletes it at the end.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from telehealth.outbound.models import Delivery, EventType, OutboxEvent
from tests.webhooks.receiver import Receiver
from tests.worker.conftest import BACKENDS
from tests.worker.processes import Stack, running_stack, wait_until
from tests.worker.seen import accepted, of, verified, wait_for

#: Seconds (as minutes) an alert waits at each level: 3 s for suicidal ideation and adverse
#: events, 6 s for a severe score (the acknowledgement test needs a little more room).
WINDOWS = {"suicidal_ideation": 0.05, "adverse_event": 0.05, "severe_score": 0.1}
SUICIDAL_WINDOW = 3.0
SEVERE_WINDOW = 6.0
#: "Within seconds": the longest a committed event may take to reach the receiver here.
PROMPT = 10.0
#: PHQ-9 answers: item 9 (self-harm) > 0 with a low total, and a severe total (24) without it.
SUICIDAL_PHQ9 = [1, 0, 0, 0, 0, 0, 0, 0, 1]
SEVERE_PHQ9 = [3, 3, 3, 3, 3, 3, 3, 3, 0]


@pytest.fixture(scope="module", params=BACKENDS)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    log_dir = tmp_path_factory.mktemp(f"worker-{request.param}")
    settings = {"ALERT_ESCALATION_MINUTES": _json(WINDOWS)}
    with running_stack(log_dir, workers=2, settings=settings) as running:
        yield running


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def now() -> datetime:
    return datetime.now(UTC)


def checkin(stack: Stack, patient: dict[str, str], **body: Any) -> dict[str, Any]:
    answer = stack.call(
        "POST",
        "/api/v1/checkins",
        token=patient["token"],
        json={"recorded_at": now().isoformat(), "mood": 4, **body},
        expect=201,
    )
    return answer.json()  # type: ignore[no-any-return]


def alert_of(answer: dict[str, Any], kind: str) -> str:
    [alert] = [alert["id"] for alert in answer["alerts"] if alert["kind"] == kind]
    return str(alert)


def inbox(stack: Stack, token: str) -> list[dict[str, Any]]:
    answer = stack.call("GET", "/api/v1/me/notifications?limit=100", token=token, expect=200)
    return answer.json()["items"]  # type: ignore[no-any-return]


def escalations(events: dict[str, Any], alert_id: str) -> Counter[int]:
    """Distinct `alert.escalated` events of one alert, by level."""
    return Counter(
        event.data["escalation_level"]
        for event in events.values()
        if event.type == "alert.escalated" and event.data["alert_id"] == alert_id
    )


def outbox_escalations(stack: Stack, alert_ids: set[str]) -> Counter[tuple[str, int]]:
    """`alert.escalated` rows of the outbox, by (alert, level)."""
    rows = stack.read(select(OutboxEvent.data).where(OutboxEvent.type == EventType.ALERT_ESCALATED))
    return Counter(
        (data["alert_id"], data["escalation_level"])
        for (data,) in rows
        if data["alert_id"] in alert_ids
    )


def test_a_suicidal_checkin_is_signed_at_the_receiver_escalates_once_per_level_until_acknowledged(
    stack: Stack,
) -> None:
    first = stack.new_clinician("Dr. First")
    second = stack.new_clinician("Dr. Second")
    patient = stack.new_patient(first["id"])
    other = stack.new_patient(first["id"])
    admin = stack.admin_token()
    for someone in (patient, other):  # both clinicians on both care teams
        stack.call(
            "PUT",
            f"/api/v1/patients/{someone['id']}/care-team/{second['id']}",
            token=admin,
            expect=200,
        )
    types = ["alert.raised", "alert.escalated", "alert.acknowledged"]
    with Receiver() as receiver, stack.webhook(receiver.url, types) as hook:
        secret = hook["secret"]
        submitted = time.monotonic()
        unanswered = alert_of(
            checkin(stack, patient, instruments={"PHQ-9": SUICIDAL_PHQ9}), "suicidal_ideation"
        )
        answered = alert_of(
            checkin(stack, other, instruments={"PHQ-9": SEVERE_PHQ9}), "severe_score"
        )

        # Raised: at the receiver within seconds, signed (every event is verified with the
        # endpoint's secret by the standardwebhooks package).
        wait_for(
            receiver,
            secret,
            of("alert.raised", alert_id=unanswered),
            timeout=PROMPT,
            what=f"alert.raised of {unanswered}\n{stack.report()}",
        )
        assert time.monotonic() - submitted < PROMPT

        # The severe-score alert escalates once, then the care team acknowledges it.
        wait_for(
            receiver,
            secret,
            of("alert.escalated", alert_id=answered, escalation_level=1),
            timeout=SEVERE_WINDOW + PROMPT,
            what="level 1 of the severe-score alert",
        )
        escalated_seen = time.monotonic()
        acknowledged = stack.call(
            "POST",
            f"/api/v1/alerts/{answered}/acknowledge",
            token=first["token"],
            json={"note": "Called the patient."},
            expect=200,
        ).json()
        assert acknowledged["escalation_level"] == 1, "level 2 came before the acknowledgement"
        wait_for(
            receiver,
            secret,
            of("alert.acknowledged", alert_id=answered),
            timeout=PROMPT,
            what="alert.acknowledged",
        )

        # The unacknowledged one goes to level 1 (the care team), then 2 (the admins).
        wait_for(
            receiver,
            secret,
            of("alert.escalated", alert_id=unanswered, escalation_level=2),
            timeout=2 * SUICIDAL_WINDOW + PROMPT,
            what="level 2 of the suicidal alert",
        )

        # Past the time a second level-2 escalation of the acknowledged alert would have come
        # (a window after its level 1, plus ticks), and a window past the other's level 2.
        time.sleep(max(0.0, escalated_seen + SEVERE_WINDOW + 3 - time.monotonic()))
        time.sleep(max(0.0, SUICIDAL_WINDOW + 1 - (time.monotonic() - escalated_seen)))
        events = accepted(receiver, secret)
        every = {str(n): e for n, e in enumerate(verified(receiver, secret))}  # duplicates too

    assert escalations(events, unanswered) == {1: 1, 2: 1}, stack.report()
    assert escalations(every, unanswered) == {1: 1, 2: 1}, "an escalation was sent twice"
    assert escalations(events, answered) == {1: 1}, "acknowledging did not stop escalation"
    assert outbox_escalations(stack, {unanswered, answered}) == {
        (unanswered, 1): 1,
        (unanswered, 2): 1,
        (answered, 1): 1,
    }
    raised = [e for e in events.values() if e.type == "alert.raised"]
    assert {e.data["alert_id"] for e in raised} == {unanswered, answered}
    assert all(e.data["kind"] in {"suicidal_ideation", "severe_score"} for e in raised)

    # The inbox: each clinician of the care team has the alert once and its level-1 escalation
    # once; the admin (on call) has its level-2 escalation once.
    for clinician in (first, second):
        kinds = Counter(
            n["kind"] for n in inbox(stack, clinician["token"]) if n["alert_id"] == unanswered
        )
        assert kinds == {"alert.raised": 1, "alert.escalated": 1}, clinician
    admin_kinds = Counter(n["kind"] for n in inbox(stack, admin) if n["alert_id"] == unanswered)
    assert admin_kinds == {"alert.escalated": 1}

    # Email: the same, once each (deliveries may trail the webhook by a moment).
    def subjects(address: str) -> list[str] | None:
        mails = [m.subject for m in stack.smtp.to(address) if unanswered in m.body]
        return sorted(mails) if len(mails) >= (2 if address != stack.admin_email else 1) else None

    for clinician in (first, second):
        assert wait_until(
            lambda c=clinician: subjects(c["email"]),
            timeout=PROMPT,
            what=f"emails to {clinician['email']}",
        ) == [
            "Escalation (level 1): there is something to review",
            "There is something to review",
        ]
    assert wait_until(
        lambda: subjects(stack.admin_email), timeout=PROMPT, what="the admin's email"
    ) == ["Escalation (level 2): there is something to review"]
    # Nothing of the acknowledged alert went past level 1, by email either.
    assert not [m for m in stack.smtp.to(stack.admin_email) if answered in m.body]


def test_a_receiver_that_fails_then_recovers_gets_the_event_again_with_the_same_webhook_id(
    stack: Stack,
) -> None:
    clinician = stack.new_clinician()
    patient = stack.new_patient(clinician["id"])
    with Receiver() as receiver, stack.webhook(receiver.url, ["checkin.submitted"]) as hook:
        receiver.answers.append(500)  # the first request fails, later ones get 200
        submitted = checkin(stack, patient)
        wait_until(
            lambda: len(receiver.requests) >= 2,
            timeout=PROMPT,
            what=f"a retry after the 500\n{stack.report()}",
        )

        def delivered() -> dict[str, Any] | None:
            log = stack.call(
                "GET",
                f"/api/v1/webhooks/{hook['id']}/deliveries",
                token=stack.admin_token(),
                expect=200,
            ).json()["items"]
            return log[0] if log and log[0]["status"] == "delivered" else None

        entry = wait_until(delivered, timeout=PROMPT, what="the delivery recorded delivered")
        events = verified(receiver, hook["secret"])

    assert [(e.status, e.type) for e in events] == [
        (500, "checkin.submitted"),
        (200, "checkin.submitted"),
    ]
    assert events[0].id == events[1].id == entry["event_id"]
    assert events[1].data["checkin_id"] == submitted["id"]
    assert entry["attempts"] == 2
    assert entry["last_status_code"] == 200
    assert entry["next_attempt_at"] is None


def test_an_overdue_checkpoint_is_raised_by_the_worker_without_anyone_listing_alerts(
    stack: Stack,
) -> None:
    clinician = stack.new_clinician()
    patient = stack.new_patient(clinician["id"])
    # A session starting in a minute, whose day opened an hour before that; the medication
    # was taken 58 minutes ago, so +40 min was due 18 minutes ago: overdue past the grace (15).
    booked = stack.call(
        "POST",
        "/api/v1/sessions",
        token=clinician["token"],
        json={
            "patient_id": patient["id"],
            "scheduled_start": (now() + timedelta(minutes=1)).isoformat(),
            "duration_minutes": 60,
            "modality": "video",
            "treatment_monitor": {"name": "Monitor", "phone": "+1 555 0101"},
        },
        expect=201,
    ).json()
    session_id = booked["id"]
    with Receiver() as receiver, stack.webhook(receiver.url, ["checkpoint.overdue"]) as hook:
        stack.call(
            "POST",
            f"/api/v1/sessions/{session_id}/start",
            token=clinician["token"],
            json={},
            expect=200,
        )
        stack.call(
            "POST",
            f"/api/v1/sessions/{session_id}/medication-taken",
            token=clinician["token"],
            json={"taken_at": (now() - timedelta(minutes=58)).isoformat()},
            expect=200,
        )
        # Nobody lists alerts: the worker alone finds it.
        [overdue] = wait_for(
            receiver,
            hook["secret"],
            of("checkpoint.overdue", session_id=session_id, checkpoint="plus_40_min"),
            timeout=PROMPT,
            what=f"checkpoint.overdue\n{stack.report()}",
        )
    # The care team's inbox has the alert, raised before anyone listed alerts.
    entries = [
        n for n in inbox(stack, clinician["token"]) if n["alert_id"] == overdue.data["alert_id"]
    ]
    assert [n["kind"] for n in entries] == ["alert.raised"]
    alerts = stack.call(
        "GET",
        f"/api/v1/alerts?patient_id={patient['id']}&kind=checkpoint_overdue",
        token=clinician["token"],
        expect=200,
    ).json()["items"]
    assert overdue.data["alert_id"] in {alert["id"] for alert in alerts}


def test_two_workers_ticking_at_once_escalate_each_alert_exactly_once_per_level(
    stack: Stack,
) -> None:
    assert all(worker.alive() for worker in stack.workers) and len(stack.workers) == 2
    clinician = stack.new_clinician()
    patients = [stack.new_patient(clinician["id"]) for _ in range(3)]
    with Receiver() as receiver, stack.webhook(receiver.url, ["alert.escalated"]) as hook:
        alert_ids = {
            alert_of(
                checkin(stack, patient, instruments={"PHQ-9": SUICIDAL_PHQ9}), "suicidal_ideation"
            )
            for patient in patients
            for _ in range(5)
        }
        wait_for(
            receiver,
            hook["secret"],
            of("alert.escalated", escalation_level=2),
            count=len(alert_ids),
            timeout=2 * SUICIDAL_WINDOW + 3 * PROMPT,
            what=f"level 2 of {len(alert_ids)} alerts\n{stack.report()}",
        )
        time.sleep(SUICIDAL_WINDOW + 1)  # a window more: nothing else may come
        events = accepted(receiver, hook["secret"])
        requests_by_id = Counter(request.headers["webhook-id"] for request in receiver.requests)

    expected = {(alert_id, level): 1 for alert_id in alert_ids for level in (1, 2)}
    assert outbox_escalations(stack, alert_ids) == expected
    assert (
        Counter((e.data["alert_id"], e.data["escalation_level"]) for e in events.values())
        == expected
    )
    # Every escalation event was recorded delivered once, to this endpoint.
    rows = stack.read(
        select(Delivery.event_id, Delivery.status, Delivery.delivered_at).where(
            Delivery.target_id == _uuid(hook["id"])
        )
    )
    assert len(rows) == len(expected) == len(requests_by_id)
    assert {str(row.event_id) for row in rows} == set(events)
    assert all(row.status == "delivered" and row.delivered_at is not None for row in rows)


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(value)


def test_a_sentinel_in_every_free_text_field_never_leaves_by_email_or_webhook(
    stack: Stack,
) -> None:
    sentinel = f"Sentinel{secrets.token_hex(6)}"
    clinician = stack.new_clinician(f"Dr. {sentinel}")
    other_clinician = stack.new_clinician(f"Dr. {sentinel} Two")
    patient = stack.new_patient(clinician["id"], name=f"{sentinel} Patient")
    reminded = stack.new_patient(other_clinician["id"], name=f"{sentinel} Reminded")
    monitor = {"name": f"{sentinel} Monitor", "phone": "+1 555 0102"}
    mails_before = len(stack.smtp.messages)

    with Receiver() as receiver, stack.webhook(receiver.url, ["*"]) as hook:
        # A session under way: notes, an adverse event and flagged vital signs.
        session_id = stack.call(
            "POST",
            "/api/v1/sessions",
            token=clinician["token"],
            json={
                "patient_id": patient["id"],
                "scheduled_start": (now() + timedelta(minutes=1)).isoformat(),
                "duration_minutes": 60,
                "modality": "video",
                "treatment_monitor": monitor,
                "notes": f"session notes {sentinel}",
            },
            expect=201,
        ).json()["id"]
        stack.call(
            "POST",
            f"/api/v1/sessions/{session_id}/start",
            token=clinician["token"],
            json={},
            expect=200,
        )
        stack.call(
            "POST",
            f"/api/v1/sessions/{session_id}/notes",
            token=clinician["token"],
            json={
                "checkpoint": "pre_session",
                "observed_at": now().isoformat(),
                "text": f"pre-session {sentinel}",
            },
            expect=201,
        )
        stack.call(
            "POST",
            f"/api/v1/sessions/{session_id}/medication-taken",
            token=clinician["token"],
            json={},
            expect=200,
        )
        note = stack.call(
            "POST",
            f"/api/v1/sessions/{session_id}/notes",
            token=clinician["token"],
            json={
                "observed_at": now().isoformat(),
                "text": f"monitoring note {sentinel}",
                "vitals": {"heart_rate": 125},
                "adverse_event": {
                    "description": f"adverse event {sentinel}",
                    "severity": "severe",
                    "serious": True,
                    "emergency_care": False,
                    "action_taken": f"action {sentinel}",
                },
            },
            expect=201,
        ).json()
        # A check-in with a note that raises a suicidal-ideation alert.
        suicidal = alert_of(
            checkin(
                stack,
                patient,
                note=f"check-in note {sentinel}",
                instruments={"PHQ-9": SUICIDAL_PHQ9},
            ),
            "suicidal_ideation",
        )
        # A session an hour ahead (and a few seconds): its 1-hour reminder falls due at once.
        reminded_session = stack.call(
            "POST",
            "/api/v1/sessions",
            token=other_clinician["token"],
            json={
                "patient_id": reminded["id"],
                "scheduled_start": (now() + timedelta(hours=1, seconds=8)).isoformat(),
                "duration_minutes": 60,
                "modality": "phone",
                "treatment_monitor": monitor,
                "notes": f"reminded session notes {sentinel}",
            },
            expect=201,
        ).json()["id"]

        secret = hook["secret"]
        wait_for(
            receiver,
            secret,
            of("alert.escalated", alert_id=suicidal, escalation_level=1),
            timeout=SUICIDAL_WINDOW + PROMPT,
            what="the suicidal alert's escalation",
        )
        stack.call(
            "POST",
            f"/api/v1/alerts/{suicidal}/acknowledge",
            token=clinician["token"],
            json={"note": f"acknowledged {sentinel}"},
            expect=200,
        )
        wait_for(
            receiver,
            secret,
            of("alert.acknowledged", alert_id=suicidal),
            timeout=PROMPT,
            what="the acknowledgement",
        )
        wait_for(
            receiver,
            secret,
            of("alert.escalated", kind="adverse_event", escalation_level=2, session_id=session_id),
            timeout=2 * SUICIDAL_WINDOW + PROMPT,
            what="the adverse event's escalation",
        )
        wait_for(
            receiver,
            secret,
            of("session.reminder", session_id=reminded_session),
            timeout=10 + PROMPT,
            what=f"the session reminder\n{stack.report()}",
        )

        def both_reminder_mails() -> list[Any] | None:
            found = [
                m
                for m in stack.smtp.messages
                if m.subject.startswith("Reminder") and reminded_session in m.body
            ]
            # The patient's and the clinician's are two deliveries: wait for both.
            return found if len({m.envelope_to[0] for m in found}) >= 2 else None

        reminder_mails = wait_until(both_reminder_mails, timeout=PROMPT, what="the reminder emails")
        time.sleep(1)  # what is still on its way
        events = verified(receiver, secret)
        requests = list(receiver.requests)
    mails = stack.smtp.messages[mails_before:]

    # The run did what it should: alerts raised (suicidal ideation, adverse event, vital
    # signs), escalated, acknowledged, a session reminded; emails of each kind went out.
    types = {e.type for e in events}
    assert {
        "alert.raised",
        "alert.escalated",
        "alert.acknowledged",
        "session.reminder",
        "checkin.submitted",
        "session.scheduled",
        "session.changed",
    } <= types
    kinds = {e.data.get("kind") for e in events if e.type == "alert.raised"}
    assert {"suicidal_ideation", "adverse_event", "vital_sign"} <= kinds
    assert {m.envelope_to[0] for m in reminder_mails} == {
        reminded["email"],
        other_clinician["email"],
    }
    assert len(mails) >= 6
    assert note["adverse_event"]["description"] == f"adverse event {sentinel}"

    # Nothing of it left the building: no email (raw, decoded body, decoded headers), no
    # webhook body or header carries the sentinel, in any letter case; nor does any log.
    needle = sentinel.lower()
    for mail in mails:
        headers = "\n".join(f"{name}: {value}" for name, value in mail.message.items())
        assert needle not in (mail.text + headers).lower(), mail.subject
    for request in requests:
        assert needle not in request.body.decode("utf-8", "replace").lower()
        assert needle not in repr(request.headers).lower()
    assert needle not in stack.logs().lower()
    # ... while the service itself still knows it (the sentinel really was stored).
    alerts = stack.call(
        "GET",
        f"/api/v1/alerts?patient_id={patient['id']}&status=all",
        token=clinician["token"],
        expect=200,
    ).json()["items"]
    assert any(alert["note"] == f"acknowledged {sentinel}" for alert in alerts)
