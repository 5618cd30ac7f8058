"""Nothing is lost and nothing is recorded twice when a worker dies mid-delivery and the queue
goes away for a while.

Real processes (tests/worker/processes.py): the API, two workers, a webhook receiver that
answers slowly (so deliveries are in flight), on the suite's backend. Check-ins that each raise
a suicidal-ideation alert stream in; one worker is SIGKILLed while deliveries are under way;
on the PostgreSQL run the queue is a redis-server of the test's own (never the machine's
shared one), which is then stopped for a few seconds while more check-ins arrive (the API
cannot hand their events to the queue), started again empty, and the killed worker is
started again. Every event must reach the receiver (deduplicated by `webhook-id`), and the
database must hold exactly one delivery per (event, endpoint), delivered.

A delivery the killed worker had claimed waits for its claim to run out (60 s,
`telehealth.outbound.delivery.LEASE`) before the sweep hands it out again: this test takes
a little over a minute.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from telehealth.outbound.delivery import LEASE
from telehealth.outbound.models import Delivery, DeliveryStatus, EventType, OutboxEvent
from tests.databases import backend
from tests.webhooks.receiver import Receiver
from tests.worker.conftest import BACKENDS
from tests.worker.processes import RedisServer, Stack, connected_to, running_stack, wait_until
from tests.worker.seen import accepted

#: Check-ins before the crash and during the outage; each makes two events (checkin.submitted
#: and alert.raised).
BEFORE, DURING = 18, 12
#: Seconds Redis stays down.
OUTAGE = 4.0
#: The receiver takes this long to answer each request: deliveries are in flight when the
#: worker dies.
SLOW = 0.5
SUICIDAL_PHQ9 = [1, 0, 0, 0, 0, 0, 0, 0, 1]


@pytest.fixture(params=BACKENDS)
def faulty(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Stack, RedisServer | None]]:
    redis = RedisServer(tmp_path) if request.param == "postgresql" else None
    try:
        if redis is not None:
            redis.start()
        # The default escalation windows (minutes): no escalation during the run, so the
        # events are exactly the check-ins' own. Retries a second apart, and enough of them.
        settings = {"WEBHOOK_RETRY_DELAYS_SECONDS": "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"}
        with running_stack(tmp_path, workers=2, redis=redis, settings=settings) as stack:
            yield stack, redis
    finally:
        if redis is not None:
            redis.stop()


def test_a_killed_worker_and_a_queue_outage_lose_no_event_and_record_each_delivery_once(
    faulty: tuple[Stack, RedisServer | None],
) -> None:
    stack, redis = faulty
    assert (redis is not None) == (backend() == "postgresql")
    clinician = stack.new_clinician()
    patients = [stack.new_patient(clinician["id"]) for _ in range(3)]
    checkins: list[str] = []

    def submit(count: int) -> None:
        for number in range(count):
            patient = patients[number % len(patients)]
            answer = stack.call(
                "POST",
                "/api/v1/checkins",
                token=patient["token"],
                json={
                    "recorded_at": datetime.now(UTC).isoformat(),
                    "mood": 3,
                    "instruments": {"PHQ-9": SUICIDAL_PHQ9},
                },
                expect=201,
            ).json()
            assert [alert["kind"] for alert in answer["alerts"]] == ["suicidal_ideation"]
            checkins.append(answer["id"])

    with Receiver(delay=SLOW) as receiver, stack.webhook(receiver.url, ["*"]) as hook:
        endpoint = hook["id"]
        submit(BEFORE)
        # Deliveries are under way: the receiver has some, and a worker is sending one now
        # (its connection to the receiver is open): that worker dies.
        wait_until(
            lambda: len(receiver.requests) >= 4,
            timeout=15,
            what=f"the first deliveries\n{stack.report()}",
        )
        port = int(receiver.url.split(":")[2].split("/")[0])
        by_pid = {worker.pid: worker for worker in stack.workers}
        [sending, *_] = wait_until(
            lambda: connected_to(port, list(by_pid)),
            timeout=15,
            every=0.01,
            what="a worker in the middle of a delivery",
        )
        victim = by_pid[sending]
        victim.kill()
        pending_at_kill = _pending(stack, endpoint)
        assert pending_at_kill > 0, "nothing was in flight when the worker died"

        if redis is not None:
            redis.stop()  # the queue is gone: the API cannot hand over, the workers cannot read
            down = time.monotonic()
            submit(DURING)
            time.sleep(max(0.0, OUTAGE - (time.monotonic() - down)))
            redis.start()  # empty: whatever was queued or scheduled in it is lost too
        else:
            submit(DURING)
        victim.launch()

        expected = _expected_events(stack, set(checkins))
        assert len(expected) == 2 * (BEFORE + DURING)

        def all_delivered() -> bool:
            rows = _deliveries(stack, endpoint)
            return (
                set(accepted(receiver, hook["secret"])) >= expected
                and all(row.status == DeliveryStatus.DELIVERED for row in rows)
                and {str(row.event_id) for row in rows} >= expected
            )

        wait_until(
            all_delivered,
            timeout=LEASE.total_seconds() + 45,
            every=0.5,
            what=f"every event delivered\n{stack.report()}",
        )
        time.sleep(1.5)  # a late duplicate send would show up now
        seen = accepted(receiver, hook["secret"])
        sends = Counter(request.headers["webhook-id"] for request in receiver.requests)

    # Every event reached the receiver (a receiver deduplicating by webhook-id has them all).
    assert expected <= set(seen)
    # One delivery per (event, endpoint), delivered, with its time set.
    rows = [row for row in _deliveries(stack, endpoint) if str(row.event_id) in expected]
    assert Counter(str(row.event_id) for row in rows) == dict.fromkeys(expected, 1)
    assert all(row.status == DeliveryStatus.DELIVERED for row in rows)
    assert all(row.delivered_at is not None for row in rows)
    # Each send followed a claim of its own (a send the killed worker made still counts as
    # an attempt), so no attempt was recorded for a send that did not happen, or twice.
    assert all(row.attempts >= sends[str(row.event_id)] for row in rows)
    duplicates = sum(count - 1 for count in sends.values())
    print(
        f"events {len(expected)}, sends {sum(sends.values())}, duplicates {duplicates}, "
        f"pending when the worker died {pending_at_kill}"
    )


def _deliveries(stack: Stack, endpoint: str) -> list[Delivery]:
    import uuid

    return stack.read(
        select(Delivery.event_id, Delivery.status, Delivery.attempts, Delivery.delivered_at).where(
            Delivery.target_id == uuid.UUID(endpoint)
        )
    )


def _pending(stack: Stack, endpoint: str) -> int:
    return sum(row.status == DeliveryStatus.PENDING for row in _deliveries(stack, endpoint))


def _expected_events(stack: Stack, checkins: set[str]) -> set[str]:
    """The events of the check-ins: each one's `checkin.submitted` and its alert's
    `alert.raised`."""
    rows = stack.read(
        select(OutboxEvent.id, OutboxEvent.type, OutboxEvent.data).where(
            OutboxEvent.type.in_([EventType.CHECKIN_SUBMITTED, EventType.ALERT_RAISED])
        )
    )
    return {
        str(row.id)
        for row in rows
        if row.data.get("checkin_id") in checkins or row.data.get("source_id") in checkins
    }
