"""Outbound benchmark: events through the outbox, the queue and the workers to a webhook receiver.

    .venv/bin/python -m bench.outbound [--events 10000] [--workers 2] [--threads 4]
        [--batch 100] [--rate 0] [--database-server postgresql://postgres@127.0.0.1:5432/]
        [--redis-url redis://127.0.0.1:6379/0]

What it does:

1. creates a fresh PostgreSQL database (`telehealth_outbound_bench_<random>`, dropped at the
   end) and migrates it; the queue is Redis at `--redis-url` under a queue name of the run's
   own, whose keys alone are deleted at the end;
2. starts a webhook receiver on 127.0.0.1 (a threaded `http.server`) that answers 204 at once
   and records, per `webhook-id`, when it answered; registers one webhook endpoint subscribed
   to `alert.raised` (through the service function, as the admin route does);
3. starts `--workers` worker processes, `flask --app wsgi worker` with `WORKER_THREADS` =
   `--threads`, development settings (production refuses webhooks to loopback, which is where
   the receiver is), and waits until a warm-up event reaches the receiver;
4. writes `--events` `alert.raised` events with `telehealth.outbound.events.emit`, `--batch`
   per committed transaction (no recipients: each event makes one webhook delivery), as fast
   as it can, or at `--rate` events per second; each transaction hands its events to the
   queue when it commits, as a request does;
5. waits until every event has reached the receiver and reads, for each, `created_at` from
   the outbox (written in the transaction, just before its commit) and the receiver's answer
   time (same machine, same clock).

It prints one JSON object: `events`, `seconds` (first event written -> last one answered),
`events_per_second`, latency from `created_at` to the receiver's 2xx (`p50_ms`, `p90_ms`,
`p99_ms`, `max_ms`), `duplicates` (events the receiver got more than once), the deliveries
the database records `delivered`, and the settings used. The machine's other work shares its
cores with PostgreSQL, Redis, the workers, the writer and the receiver, so figures are this
machine's. Not a CI gate.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.scratch import scratch_database

ROOT = Path(__file__).resolve().parent.parent
QUEUE_NAME = f"telehealth-outbound-bench-{secrets.token_hex(4)}"
SECRET = "outbound-bench-secret-" + secrets.token_hex(16)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.outbound",
        description="Events per second and latency from commit to a webhook receiver's 2xx, "
        "through the outbox, the Redis queue and worker processes, on PostgreSQL.",
    )
    parser.add_argument("--events", type=int, default=10_000, help="events to send (10000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
    parser.add_argument("--batch", type=int, default=100, help="events per transaction (100)")
    parser.add_argument(
        "--rate", type=float, default=0, help="events per second to write; 0: as fast as possible"
    )
    parser.add_argument(
        "--database-server",
        default=os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/",
        help="PostgreSQL server URL (TEST_DATABASE_URL; default postgresql://postgres@127.0.0.1:5432/)",
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/0",
        help="Redis for the queue (redis://127.0.0.1:6379/0); only the run's own keys are touched",
    )
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds to wait for every event (600)"
    )
    parser.add_argument(
        "--logs", type=Path, default=None, help="folder for the workers' logs (a temporary one)"
    )
    return parser.parse_args()


# --- the receiver ---------------------------------------------------------------------------------


class Arrivals:
    """When the receiver answered each request, by `webhook-id` (the first answer counts)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.first: dict[str, float] = {}
        self.count: Counter[str] = Counter()

    def record(self, event_id: str, at: float) -> None:
        with self.lock:
            self.first.setdefault(event_id, at)
            self.count[event_id] += 1

    def has(self, event_id: str) -> bool:
        with self.lock:
            return event_id in self.first

    def __len__(self) -> int:
        with self.lock:
            return len(self.first)


@contextmanager
def receiver(arrivals: Arrivals) -> Iterator[str]:
    """A loopback HTTP server answering 204 to every POST; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.wfile.flush()
            arrivals.record(self.headers.get("webhook-id", ""), time.time())

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- processes ------------------------------------------------------------------------------------


def start_worker(number: int, env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    with (logs / f"worker-{number}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def worker_env(database_url: str, redis_url: str, threads: int) -> dict[str, str]:
    keep = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DATABASE_", "REDIS_", "TASK_QUEUE_", "SMTP_", "WORKER_", "WEBHOOK_")
        )
    }
    return {
        **keep,
        "TELEHEALTH_ENV": "development",  # production refuses webhooks to loopback
        "SECRET_KEY": SECRET,
        "JWT_SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "TASK_QUEUE_URL": redis_url,
        "TASK_QUEUE_NAME": QUEUE_NAME,
        "WORKER_THREADS": str(threads),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def database(server_url: str) -> AbstractContextManager[str]:
    """A fresh database on the server, dropped afterwards."""
    return scratch_database(server_url, "telehealth_outbound_bench")


# --- the run --------------------------------------------------------------------------------------


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = math.ceil(share * len(ordered))
    return ordered[max(0, min(len(ordered), rank) - 1)]


def main() -> int:
    args = arguments()
    # The queue is made when telehealth.worker.queue is first imported: name it first.
    os.environ["TASK_QUEUE_URL"] = args.redis_url
    os.environ["TASK_QUEUE_NAME"] = QUEUE_NAME

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from config import load_config
    from telehealth import create_app
    from telehealth.extensions import db
    from telehealth.outbound.events import emit
    from telehealth.outbound.models import Delivery, DeliveryStatus, EventType, OutboxEvent
    from telehealth.webhooks.service import create_webhook
    from telehealth.worker.queue import huey

    logs = args.logs or Path(tempfile.mkdtemp(prefix="outbound-bench-"))
    logs.mkdir(parents=True, exist_ok=True)
    arrivals = Arrivals()
    workers: list[subprocess.Popen[bytes]] = []
    with database(args.database_server) as database_url, receiver(arrivals) as hook_url:
        app = create_app(
            load_config(
                "development",
                DATABASE_URL=database_url,
                SECRET_KEY=SECRET,
                JWT_SECRET_KEY=SECRET,
                REDIS_URL=None,
            )
        )
        try:
            with app.app_context():
                upgrade()
                with db.begin() as session:
                    create_webhook(session, url=hook_url, events=[EventType.ALERT_RAISED.value])

                def write(count: int) -> list[uuid.UUID]:
                    with db.begin() as session:
                        return [
                            emit(
                                session,
                                EventType.ALERT_RAISED,
                                {
                                    "alert_id": uuid.uuid4(),
                                    "patient_id": uuid.uuid4(),
                                    "kind": "suicidal_ideation",
                                    "priority": 1,
                                    "escalation_level": 0,
                                },
                            )
                            for _ in range(count)
                        ]

                env = worker_env(database_url, args.redis_url, args.threads)
                workers = [start_worker(n, env, logs) for n in range(1, args.workers + 1)]
                [warm_up] = write(1)
                deadline = time.monotonic() + 60
                while not arrivals.has(str(warm_up)):
                    if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                        raise SystemExit(f"the workers did not deliver a first event; see {logs}")
                    time.sleep(0.05)

                sent: list[uuid.UUID] = []
                started = time.monotonic()
                while len(sent) < args.events:
                    sent += write(min(args.batch, args.events - len(sent)))
                    if args.rate:
                        ahead = len(sent) / args.rate - (time.monotonic() - started)
                        if ahead > 0:
                            time.sleep(ahead)
                written_in = time.monotonic() - started
                wanted = {str(event_id) for event_id in sent}
                deadline = time.monotonic() + args.timeout
                while sum(arrivals.has(event_id) for event_id in wanted) < len(wanted):
                    if time.monotonic() > deadline:
                        raise SystemExit(
                            f"{len(wanted) - sum(arrivals.has(e) for e in wanted)} events did "
                            f"not arrive within {args.timeout:g} s; see {logs}"
                        )
                    time.sleep(0.2)
                time.sleep(1)  # let the last answers be recorded as delivered

                with db.begin() as session:
                    created = {
                        event_id: moment
                        for event_id, moment in session.execute(
                            select(OutboxEvent.id, OutboxEvent.created_at).where(
                                OutboxEvent.id.in_(sent)
                            )
                        )
                    }
                    delivered = session.scalar(
                        select(func.count())
                        .select_from(Delivery)
                        .where(
                            Delivery.event_id.in_(sent),
                            Delivery.status == DeliveryStatus.DELIVERED,
                        )
                    )
        finally:
            for process in workers:
                stop(process)
            with app.app_context():
                db.engine.dispose()
            with suppress(Exception):
                huey.storage.flush_all()

    latencies = sorted(
        (arrivals.first[str(event_id)] - moment.timestamp()) * 1000
        for event_id, moment in created.items()
    )
    first_written = min(moment.timestamp() for moment in created.values())
    last_answered = max(arrivals.first[str(event_id)] for event_id in created)
    seconds = last_answered - first_written
    result = {
        "events": len(sent),
        "seconds": round(seconds, 2),
        "events_per_second": round(len(sent) / seconds, 1),
        "written_in_seconds": round(written_in, 2),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p90_ms": round(percentile(latencies, 0.90), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(latencies[-1], 1),
        "duplicates": sum(arrivals.count[str(e)] - 1 for e in sent),
        "delivered": delivered,
        "workers": args.workers,
        "threads": args.threads,
        "batch": args.batch,
        "rate": args.rate or "max",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result))
    return 0 if delivered == len(sent) else 1


if __name__ == "__main__":
    sys.exit(main())
