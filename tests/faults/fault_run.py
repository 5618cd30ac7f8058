"""Fault run: check-ins keep their integrity while PostgreSQL restarts under a live gunicorn.

Run it (PostgreSQL and Redis on 127.0.0.1, as in CI)::

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ \\
        .venv/bin/python -m tests.faults.fault_run [--traffic 14] [--warmup 4] [--down 3]

What it does:

1. creates a fresh PostgreSQL database, migrates it and adds an admin; starts gunicorn
   (`config/gunicorn.conf.py`, one worker, production settings, rate limits in Redis database
   14, emptied before and after); through the API the admin creates a patient, who activates
   the account and signs in;
2. drives a steady stream of `POST /api/v1/checkins` from `--clients` threads, each submission
   with its own `Idempotency-Key` and a unique marker in `note`. Like a phone, the client
   retries a submission (same key, same body) on connection errors, timeouts and 5xx with a
   short backoff until it gets a 2xx, and gives up after `--give-up` seconds;
3. meanwhile polls `/readyz`, and after `--warmup` seconds stops PostgreSQL
   (`pg_ctlcluster --skip-systemctl-redirect <version> main stop`, fast mode), waits `--down`
   seconds and starts it again; traffic goes on until `--traffic` seconds have passed and the
   service has recovered (gunicorn itself is never restarted);
4. verifies in the database that every acknowledged (2xx) submission is stored exactly once
   (rows per `note` marker, the row id the client was given, the key's idempotency record),
   that nothing is stored twice or without an acknowledgement, that the service answered 503
   problem+json and never 500 while the database was down, that readiness went red and then
   green, and that the same gunicorn master and worker served throughout.

It prints one JSON line: `sent` (submissions started), `acknowledged` (answered 2xx),
`stored` (rows in mood_checkins), `duplicates` (keys stored more than once), `missing`,
`unacknowledged_stored`, `replayed`, `gave_up`, `rejected`, `attempts`, `status_counts` and
`readyz_counts` (status code, `connection_error` or `timeout` per HTTP attempt),
`seconds_to_recover` (first failure seen -> first success of a request sent after it),
`seconds_stop_to_start`, `seconds_start_to_success`, readiness red/green times, the timeline,
the gunicorn pids, and `checks` (each a boolean) with `ok` = all of them. It exits 0 when `ok`,
1 otherwise (the tail of gunicorn's log goes to stderr), 2 when not given PostgreSQL.

PostgreSQL is started again and the database dropped however the run ends (also on SIGTERM).
The run holds an exclusive lock (see tests/instances/live_server.py) so two fault runs, or a
fault run and the instance test, never overlap on one machine. Restarting PostgreSQL disturbs
anything else using it for those few seconds.

Environment: `TEST_DATABASE_URL` (default postgresql://postgres@127.0.0.1:5432/);
`FAULTS_PG_STOP` / `FAULTS_PG_START` replace the stop and start commands (e.g. for a private
cluster).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

# Before tests.databases is imported: it reads the server URL once, at import.
os.environ.setdefault("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/")

import requests
from sqlalchemy import create_engine, text

from tests.instances.live_server import (
    ADMIN_PASSWORD,
    PG_STOP,
    Instance,
    create_patient,
    ensure_postgres_running,
    login,
    on_postgresql,
    postgres_lock,
    provisioned_database,
    redis_database,
    running_instances,
    service_env,
)

REDIS_DB = 14
PROBLEM_JSON = "application/problem+json"
MARKER = "fault-run"


@dataclass
class Attempt:
    """One HTTP attempt: when it was sent and answered (seconds since the start) and what came
    back: a status code, or `connection_error` / `timeout`."""

    sent: float
    answered: float
    outcome: str

    @property
    def ok(self) -> bool:
        return self.outcome.isdigit() and 200 <= int(self.outcome) < 300


@dataclass
class Record:
    """Everything the clients and the readiness poller saw, shared between threads."""

    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    attempts: list[Attempt] = field(default_factory=list)
    readiness: list[Attempt] = field(default_factory=list)
    sent: int = 0
    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> check-in id
    replayed: int = 0
    gave_up: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # key -> status
    odd_503: int = 0  # a 503 that is not a proper problem (see _proper_503)

    def now(self) -> float:
        return time.monotonic() - self.started


def _request(
    http: requests.Session, method: str, url: str, **kwargs: Any
) -> tuple[str, requests.Response | None]:
    """Send one request; its status code as text (or `timeout` / `connection_error`)."""
    try:
        response = http.request(method, url, **kwargs)
    except requests.Timeout:
        return "timeout", None
    except requests.ConnectionError:
        return "connection_error", None
    return str(response.status_code), response


def _proper_503(response: requests.Response) -> bool:
    """A 503 as the contract wants it: problem+json, with Retry-After and nothing internal."""
    if response.headers.get("Content-Type") != PROBLEM_JSON:
        return False
    body = response.json()
    return (
        body.get("status") == 503
        and "Retry-After" in response.headers
        and not any(word in response.text.lower() for word in ("sqlalchemy", "psycopg", "select"))
    )


def submit_stream(
    record: Record,
    base_url: str,
    token: str,
    run_id: str,
    numbers: itertools.count[int],
    stop: threading.Event,
    args: argparse.Namespace,
) -> None:
    """One phone: submit check-ins one after another until told to stop; retry each until it is
    acknowledged or `give_up` seconds have passed."""
    with requests.Session() as http:
        while not stop.is_set():
            with record.lock:
                number = next(numbers)
                record.sent += 1
            key = f"{run_id}-{number:06d}"
            body = {
                "recorded_at": datetime.now(UTC).isoformat(),
                "mood": number % 11,
                "note": f"{MARKER} {key}",
            }
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
            deadline, backoff = time.monotonic() + args.give_up, 0.05
            while True:
                sent = record.now()
                outcome, response = _request(
                    http,
                    "POST",
                    f"{base_url}/api/v1/checkins",
                    json=body,
                    headers=headers,
                    timeout=(2, args.request_timeout),
                )
                attempt = Attempt(sent, record.now(), outcome)
                with record.lock:
                    record.attempts.append(attempt)
                    if outcome == "503" and response is not None and not _proper_503(response):
                        record.odd_503 += 1
                if attempt.ok and response is not None:
                    with record.lock:
                        record.acknowledged[key] = response.json()["id"]
                        record.replayed += response.headers.get("Idempotent-Replayed") == "true"
                    break
                retryable = response is None or response.status_code >= 500
                if not retryable:
                    with record.lock:
                        record.rejected[key] = outcome
                    break
                if time.monotonic() > deadline:
                    with record.lock:
                        record.gave_up.append(key)
                    break
                time.sleep(backoff)
                backoff = min(backoff * 2, 0.5)
            stop.wait(args.interval)


def poll_readiness(record: Record, base_url: str, stop: threading.Event) -> None:
    with requests.Session() as http:
        while not stop.is_set():
            sent = record.now()
            outcome, _ = _request(http, "GET", f"{base_url}/readyz", timeout=(2, 5))
            with record.lock:
                record.readiness.append(Attempt(sent, record.now(), outcome))
            stop.wait(0.2)


def postgres(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stdout}{result.stderr}")


def stored_rows(database_url: str, patient_id: str) -> tuple[dict[str, list[str]], set[str]]:
    """The check-in ids stored per key (from the `note` marker), and the keys of the patient's
    idempotency records that hold a 201 answer."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT note, id FROM mood_checkins WHERE patient_id = :patient"),
                {"patient": patient_id},
            ).all()
            keys = connection.execute(
                text(
                    "SELECT key FROM idempotency_records "
                    "WHERE user_id = :patient AND status_code = 201"
                ),
                {"patient": patient_id},
            ).scalars()
            records = set(keys)
    finally:
        engine.dispose()
    by_key: dict[str, list[str]] = {}
    for note, checkin_id in rows:
        key = (note or "").removeprefix(f"{MARKER} ")
        by_key.setdefault(key, []).append(str(checkin_id))
    return by_key, records


def first(attempts: list[Attempt], *, ok: bool, sent_after: float) -> Attempt | None:
    """The first answer (success if `ok`, else failure) to a request sent at or after
    `sent_after`: requests already in flight before that moment do not count."""
    matching = [a for a in attempts if a.sent >= sent_after and a.ok is ok]
    return min(matching, key=lambda a: a.answered, default=None)


def run(
    instance: Instance, database_url: str, admin: str, args: argparse.Namespace
) -> dict[str, Any]:
    record = Record()
    run_id = uuid.uuid4().hex[:8]
    with requests.Session() as http:
        admin_token = login(http, instance.url, admin, ADMIN_PASSWORD)["access_token"]
        patient = create_patient(http, instance.url, admin_token, database_url)
    workers_before = instance.worker_pids()
    master = instance.process.pid if instance.process else None

    stop_clients, stop_poller = threading.Event(), threading.Event()
    numbers = itertools.count(1)
    clients = [
        threading.Thread(
            target=submit_stream,
            args=(record, instance.url, patient["access_token"], run_id, numbers, stop_clients),
            kwargs={"args": args},
            daemon=True,
        )
        for _ in range(args.clients)
    ]
    poller = threading.Thread(
        target=poll_readiness, args=(record, instance.url, stop_poller), daemon=True
    )
    timeline: dict[str, float] = {}
    record.started = time.monotonic()
    for thread in (poller, *clients):
        thread.start()
    try:
        time.sleep(args.warmup)
        timeline["postgres_stop"] = record.now()
        try:
            postgres(PG_STOP)
            timeline["postgres_stopped"] = record.now()
            time.sleep(args.down)
        finally:
            timeline["postgres_start"] = record.now()
            ensure_postgres_running()  # PG_START (again if need be) until it answers
            timeline["postgres_started"] = record.now()
        # Go on until the traffic time is up and a check-in got through again (bounded).
        give_up_at = record.now() + args.recovery_limit
        while record.now() < give_up_at:
            with record.lock:
                recovered = first(record.attempts, ok=True, sent_after=timeline["postgres_started"])
            if recovered is not None and record.now() >= args.traffic:
                break
            time.sleep(0.1)
    finally:
        stop_clients.set()
        for thread in clients:
            thread.join(args.give_up + args.request_timeout + 5)
        stop_poller.set()
        poller.join(10)
        ensure_postgres_running()
    timeline["traffic_stopped"] = record.now()
    hung_clients = sum(thread.is_alive() for thread in clients)

    by_key, idempotency_keys = stored_rows(database_url, patient["id"])
    acknowledged = record.acknowledged
    duplicates = sorted(key for key, ids in by_key.items() if len(ids) > 1)
    missing = sorted(key for key in acknowledged if key not in by_key)
    wrong_id = sorted(
        key for key, ids in by_key.items() if key in acknowledged and acknowledged[key] not in ids
    )
    unacknowledged_stored = sorted(key for key in by_key if key not in acknowledged)
    without_record = sorted(key for key in acknowledged if key not in idempotency_keys)
    stored = sum(len(ids) for ids in by_key.values())

    # From the first failure seen to the first success of a request sent after it.
    failure = min((a for a in record.attempts if not a.ok), key=lambda a: a.answered, default=None)
    success = first(record.attempts, ok=True, sent_after=failure.answered) if failure else None
    seconds_to_recover = (
        round(success.answered - failure.answered, 2) if failure and success else None
    )
    red = first(record.readiness, ok=False, sent_after=0)
    green = first(record.readiness, ok=True, sent_after=red.answered) if red else None
    statuses = Counter(a.outcome for a in record.attempts)
    readiness = Counter(a.outcome for a in record.readiness)
    log = instance.log_text()
    workers_after = instance.worker_pids()
    same_process = (
        instance.alive()
        and instance.process is not None
        and instance.process.pid == master
        and workers_after == workers_before
        and bool(workers_before)
    )

    checks = {
        "no_duplicates": not duplicates,
        "stored_equals_acknowledged": stored == len(acknowledged) and not missing,
        "acknowledged_ids_match": not wrong_id,
        "idempotency_record_per_acknowledgement": not without_record,
        "no_500": not any(
            a.outcome.startswith("5") and a.outcome != "503"
            for a in (*record.attempts, *record.readiness)
        ),
        "503_problem_json_while_down": statuses["503"] > 0 and record.odd_503 == 0,
        "readiness_red_then_green": red is not None and red.outcome == "503" and green is not None,
        "recovered": seconds_to_recover is not None
        and seconds_to_recover < args.max_recovery_seconds,
        "no_rejections_or_give_ups": not record.rejected and not record.gave_up,
        "same_gunicorn_throughout": same_process,
        "no_hung_clients": hung_clients == 0,
        "no_unhandled_errors_logged": "unhandled error" not in log and "Traceback" not in log,
    }
    return {
        "sent": record.sent,
        "acknowledged": len(acknowledged),
        "stored": stored,
        "duplicates": len(duplicates),
        "missing": len(missing),
        "unacknowledged_stored": len(unacknowledged_stored),
        "replayed": record.replayed,
        "gave_up": len(record.gave_up),
        "rejected": len(record.rejected),
        "attempts": len(record.attempts),
        "status_counts": dict(sorted(statuses.items())),
        "readyz_counts": dict(sorted(readiness.items())),
        "seconds_to_recover": seconds_to_recover,
        # Stop command issued -> start command issued (the stop itself takes part of it).
        "seconds_stop_to_start": round(timeline["postgres_start"] - timeline["postgres_stop"], 2),
        # Start command issued -> first check-in stored again (pg_ctlcluster's start may return
        # later than the server begins to answer).
        "seconds_start_to_success": (
            round(success.answered - timeline["postgres_start"], 2) if success else None
        ),
        "readiness_red_at": round(red.answered, 2) if red else None,
        "readiness_green_at": round(green.answered, 2) if green else None,
        "timeline": {name: round(value, 2) for name, value in timeline.items()},
        "gunicorn": {"master": master, "workers": sorted(workers_before), "same": same_process},
        "checks": checks,
        "ok": all(checks.values()),
        "examples": {
            "duplicates": duplicates[:5],
            "missing": missing[:5],
            "unacknowledged_stored": unacknowledged_stored[:5],
            "rejected": dict(list(record.rejected.items())[:5]),
        },
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.faults.fault_run",
        description="Check-in integrity while PostgreSQL restarts (see the module docstring).",
    )
    parser.add_argument("--traffic", type=float, default=14, help="seconds of traffic, at least")
    parser.add_argument("--warmup", type=float, default=4, help="seconds before the stop")
    parser.add_argument("--down", type=float, default=3, help="seconds PostgreSQL stays down")
    parser.add_argument("--clients", type=int, default=4, help="concurrent submitting clients")
    parser.add_argument("--interval", type=float, default=0.02, help="pause between check-ins")
    parser.add_argument("--give-up", type=float, default=40, help="seconds to retry one")
    parser.add_argument("--request-timeout", type=float, default=10, help="read timeout")
    parser.add_argument("--recovery-limit", type=float, default=45, help="seconds to wait")
    parser.add_argument("--max-recovery-seconds", type=float, default=30)
    parser.add_argument("--logs", type=Path, help="keep gunicorn's log in this folder")
    return parser.parse_args(argv)


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwind, so PostgreSQL is started and everything cleaned


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not on_postgresql():
        print("the fault run needs PostgreSQL (TEST_DATABASE_URL)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    report: dict[str, Any] = {}
    tail = ""
    with (
        postgres_lock(exclusive=True),
        tempfile.TemporaryDirectory() as scratch,
        redis_database(REDIS_DB) as redis_url,
    ):
        log_dir = args.logs or Path(scratch)
        log_dir.mkdir(parents=True, exist_ok=True)
        ensure_postgres_running()
        with provisioned_database("telehealth_faults") as (database_url, admin):
            try:
                env = service_env(
                    database_url, redis_url, GUNICORN_WORKERS="1", GUNICORN_THREADS="4"
                )
                with running_instances(env, ("fault-run",), log_dir) as (instance,):
                    try:
                        report = run(instance, database_url, admin, args)
                    finally:
                        tail = instance.log_tail(30)
            finally:
                ensure_postgres_running()  # before the database is dropped, whatever happened
        if not report.get("ok"):
            print(f"--- gunicorn log (tail):\n{tail}", file=sys.stderr)
    print(json.dumps(report), flush=True)
    return 0 if report.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
