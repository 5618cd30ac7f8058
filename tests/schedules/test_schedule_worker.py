"""A silent patient, with the real worker: the API under gunicorn and two `flask --app wsgi
worker` processes ticking every second on a fresh database (tests/worker/processes.py; SQLite
with a SQLite queue on the SQLite run, PostgreSQL with Redis on the PostgreSQL run), a signed
webhook receiver on 127.0.0.1 for `checkin.missed`.

A plan whose start is days in the past and no check-in raises exactly one `missed_checkins`
alert however many ticks of however many workers; a check-in ends that streak. Days cannot
pass here (the processes run on the real clock), so the later silence is a late check-in,
recorded four days ago: after it, three days went by without one, a new streak that raises
one new alert; a check-in now ends that one too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from telehealth.alerts.models import AlertKind, SafetyAlert
from telehealth.outbound.models import EventType, OutboxEvent
from tests.webhooks.receiver import Receiver
from tests.worker.conftest import BACKENDS
from tests.worker.processes import Stack, running_stack, wait_until
from tests.worker.seen import accepted, of, wait_for

#: The zone of the stack's patients (tests/worker/processes.py `new_patient`).
ZONE = ZoneInfo("Europe/Berlin")
#: Long enough for each worker to tick several times (WORKER_TICK_SECONDS is 1).
SEVERAL_TICKS = 4.0
PROMPT = 20.0


@pytest.fixture(autouse=True)
def suite_clock() -> Iterator[None]:
    """The real clock: the processes run on it (overrides the suite's travelling one)."""
    yield


@pytest.fixture(scope="module", params=BACKENDS)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    log_dir = tmp_path_factory.mktemp(f"schedules-{request.param}")
    with running_stack(log_dir, workers=2) as running:
        yield running


def missed(stack: Stack, patient_id: str) -> list[SafetyAlert]:
    rows = stack.read(
        select(SafetyAlert)
        .where(SafetyAlert.kind == AlertKind.MISSED_CHECKINS)
        .order_by(SafetyAlert.created_at)
    )
    return [alert for (alert,) in rows if str(alert.patient_id) == patient_id]


def missed_events(stack: Stack, patient_id: str) -> list[dict[str, Any]]:
    rows = stack.read(select(OutboxEvent.data).where(OutboxEvent.type == EventType.CHECKIN_MISSED))
    return [data for (data,) in rows if data["patient_id"] == patient_id]


def checkin(stack: Stack, patient: dict[str, str], recorded_at: datetime) -> None:
    stack.call(
        "POST",
        "/api/v1/checkins",
        token=patient["token"],
        json={"recorded_at": recorded_at.isoformat(), "mood": 6},
        expect=201,
    )


def test_a_silent_patient_raises_one_alert_per_streak_however_many_workers_tick(stack):
    assert all(worker.alive() for worker in stack.workers) and len(stack.workers) == 2
    clinician = stack.new_clinician()
    patient = stack.new_patient(clinician["id"])
    started = (datetime.now(UTC).astimezone(ZONE).date() - timedelta(days=6)).isoformat()

    with Receiver() as receiver, stack.webhook(receiver.url, ["checkin.missed"]) as hook:
        stack.call(
            "PUT",
            f"/api/v1/patients/{patient['id']}/schedule",
            token=clinician["token"],
            json={
                "reminders": True,
                "items": [
                    {"instrument": "mood", "every": "day", "at": "09:00", "starts_on": started}
                ],
            },
            expect=200,
        )

        # Six days without a check-in: one alert, from whichever worker ticks first.
        [first] = wait_until(
            lambda: missed(stack, patient["id"]),
            timeout=PROMPT,
            what=f"a missed_checkins alert\n{stack.report()}",
        )
        wait_for(
            receiver,
            hook["secret"],
            of("checkin.missed", patient_id=patient["id"], alert_id=str(first.id)),
            timeout=PROMPT,
            what=f"checkin.missed\n{stack.report()}",
        )
        time.sleep(SEVERAL_TICKS)
        assert [a.id for a in missed(stack, patient["id"])] == [first.id]
        assert len(missed_events(stack, patient["id"])) == 1

        # A check-in four days ago ends that streak; the three days since are a new one.
        checkin(stack, patient, datetime.now(UTC) - timedelta(days=4))
        alerts = wait_until(
            lambda: (found := missed(stack, patient["id"]))[1:] and found,
            timeout=PROMPT,
            what=f"a second missed_checkins alert\n{stack.report()}",
        )
        # A check-in now ends that one too: nothing more, however long the workers tick.
        checkin(stack, patient, datetime.now(UTC))
        time.sleep(SEVERAL_TICKS)
        final = missed(stack, patient["id"])
        told = wait_for(
            receiver,
            hook["secret"],
            of("checkin.missed", patient_id=patient["id"]),
            count=2,
            timeout=PROMPT,
            what=f"two checkin.missed\n{stack.report()}",
        )
        time.sleep(1)
        distinct = [
            event
            for event in accepted(receiver, hook["secret"]).values()
            if event.data["patient_id"] == patient["id"]
        ]

    assert [a.id for a in final] == [a.id for a in alerts] and len(final) == 2
    assert final[0].id == first.id
    assert len(missed_events(stack, patient["id"])) == 2
    assert sorted(e.data["alert_id"] for e in told) == sorted(str(a.id) for a in final)
    assert len(distinct) == 2
    # What left the building: identifiers and the item's code, nothing more.
    assert all(set(e.data) == {"patient_id", "alert_id", "instrument"} for e in distinct)
    assert {e.data["instrument"] for e in distinct} == {"mood"}
