"""The whole service as real processes, for the worker's end-to-end tests: the API under
gunicorn and one or more `flask --app wsgi worker` processes on a fresh database and one task
queue, sending email to a real SMTP server (tests/mail/smtp_server.py) and webhooks to a real
HTTP receiver (tests/webhooks/receiver.py), all on 127.0.0.1.

    with running_stack(tmp_path, workers=2, settings={...}) as stack:
        admin = stack.admin_token()
        stack.call("POST", "/api/v1/webhooks", token=admin, json={...}, expect=201)
        stack.workers[0].kill()        # SIGKILL, as a crash would
        stack.workers[0].launch()      # and up again

The backend follows the suite's: SQLite (a file in a temporary folder, and a SQLite file as the
task queue) on the SQLite run; with `TEST_DATABASE_URL`, a fresh PostgreSQL database and Redis
as the queue (`REDIS_URL`'s server, database 0 by default, under a queue name of the run's own,
whose keys alone are deleted afterwards; or the private `RedisServer` a test passes in).

The processes run on the real clock (not the suite's travelled one), so a test that talks to
them signs in over HTTP and computes times from the real clock. Every process is started in a
session of its own and ended by its own id: SIGTERM, then SIGKILL to its group if it lingers.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import requests
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from tests.databases import backend
from tests.instances.live_server import (
    ADMIN_PASSWORD,
    HOST,
    ROOT,
    Instance,
    api_call,
    free_port,
    postgres_lock,
    provisioned_database,
)
from tests.mail.smtp_server import SmtpServer, running_smtp_server

T = TypeVar("T")

#: The secret of every process of a stack (the development settings take any).
SECRET = "worker-end-to-end-secret-0123456789abcdef"
PASSWORD = "end-to-end password of a test user"
#: The Redis server the PostgreSQL run's queue lives on, unless a test brings its own.
SHARED_REDIS = os.environ.get("REDIS_URL") or f"redis://{HOST}:6379/0"

#: Settings of the caller's shell that must not leak into the processes (each stack sets its
#: own): database, queue, secrets, gunicorn, limits, email, webhooks, worker, clinical windows.
DROPPED_PREFIXES = (
    "DATABASE_",
    "TEST_DATABASE_",
    "REDIS_",
    "TASK_QUEUE_",
    "GUNICORN_",
    "LOGIN_RATE_LIMIT_",
    "SMTP_",
    "MAIL_",
    "WEBHOOK_",
    "WORKER_",
    "ALERT_",
    "SESSION_",
    "CHECKPOINT_",
    "SECRET_KEY",
    "JWT_",
    "TELEHEALTH_ENV",
    "LOG_LEVEL",
    "PUBLIC_URL",
)


def wait_until(
    probe: Callable[[], T | None], *, timeout: float, what: str, every: float = 0.1
) -> T:
    """`probe()`'s first truthy answer; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(every)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL to the process's group if it has not ended within `timeout`."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
    else:
        process.wait()
    # The group too: a child left behind would keep the log open.
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def connected_to(port: int, pids: list[int]) -> list[int]:
    """Those of `pids` holding an established TCP connection to `port` on this machine (read
    from /proc: the connection's socket inode among the process's open files)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                remote, state, inode = fields[2], fields[3], fields[9]
                if state == "01" and int(remote.rsplit(":", 1)[1], 16) == port:  # ESTABLISHED
                    inodes.add(f"socket:[{inode}]")
    found = []
    for pid in pids:
        with suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in Path(f"/proc/{pid}/fd").iterdir()):
                found.append(pid)
    return found


@dataclass
class Worker:
    """One `flask --app wsgi worker` process (its threads: WORKER_THREADS)."""

    name: str
    env: dict[str, str]
    log_dir: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def launch(self) -> None:
        assert self.process is None, f"{self.name} is running"
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} is not running"
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL, the way a crash or the OOM killer ends it: nothing is cleaned up."""
        process, self.process = self.process, None
        if process is not None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        self._close_log()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_process(process)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


@dataclass
class RedisServer:
    """A redis-server of a test's own on a free loopback port, with nothing persisted, so a test
    may stop and start it without touching the machine's shared server."""

    log_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def url(self, number: int = 0) -> str:
        return f"redis://{HOST}:{self.port}/{number}"

    def start(self, timeout: float = 10) -> None:
        import redis

        self.port = self.port or free_port()
        self._log = (self.log_dir / f"redis-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        client = redis.Redis.from_url(self.url())
        try:

            def answers() -> bool:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(f"redis-server on port {self.port} exited")
                with suppress(redis.RedisError):
                    return bool(client.ping())
                return False

            wait_until(answers, timeout=timeout, what=f"redis-server on port {self.port}")
        finally:
            client.close()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_process(process)
        if self._log is not None:
            self._log.close()
            self._log = None


def service_env(
    *, database_url: str, queue_url: str, queue_name: str, smtp_url: str, **settings: str
) -> dict[str, str]:
    """The environment of every process of a stack: development settings (they allow SQLite
    and loopback webhooks), this database, queue and SMTP server, a ticking worker, generous
    login limits (every sign-in comes from 127.0.0.1); `settings` add or override."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(DROPPED_PREFIXES)}
    env.update(
        TELEHEALTH_ENV="development",
        DATABASE_URL=database_url,
        TASK_QUEUE_URL=queue_url,
        TASK_QUEUE_NAME=queue_name,
        SMTP_URL=smtp_url,
        MAIL_FROM="Telehealth <no-reply@clinic.example>",
        SECRET_KEY=SECRET,
        JWT_SECRET_KEY=SECRET,
        WORKER_TICK_SECONDS="1",
        WEBHOOK_RETRY_DELAYS_SECONDS="[1, 1, 1]",
        MAIL_RETRY_DELAYS_SECONDS="[1, 1, 1]",
        LOGIN_RATE_LIMIT_PER_ADDRESS="100000/minute",
        LOGIN_RATE_LIMIT_PER_ACCOUNT="100000/minute",
        LOGIN_RATE_LIMIT_PER_ACCOUNT_ALL_ADDRESSES="100000/minute",
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS="4",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update(settings)
    return env


def queue_for_backend(redis: RedisServer | None) -> str:
    """The queue of a stack: a SQLite file on the SQLite run (set by `running_stack`), Redis
    (the test's own server, else the shared one) on the PostgreSQL run."""
    if redis is not None:
        return redis.url()
    return SHARED_REDIS


def forget_queue(url: str, name: str) -> None:
    """Delete the queue's own keys (and nothing else) from a Redis server."""
    from huey import RedisHuey

    queue = RedisHuey(name, url=url, results=False)
    with suppress(Exception):
        queue.storage.flush_all()
    with suppress(Exception):  # the workers' tick claims (telehealth.worker.queue.claim_slot)
        for key in queue.storage.conn.scan_iter(match=f"huey.slot.{name}.*"):
            queue.storage.conn.delete(key)
    with suppress(Exception):
        queue.storage.conn.connection_pool.disconnect()


@dataclass
class Stack:
    """A running service: the API, its workers, the SMTP server, and a way into the database."""

    api: Instance
    workers: list[Worker]
    smtp: SmtpServer
    database_url: str
    admin_email: str
    env: dict[str, str]
    log_dir: Path
    http: requests.Session
    _tokens: dict[str, str] = field(default_factory=dict)
    _engine: Engine | None = None

    @property
    def url(self) -> str:
        return self.api.url

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        expect: int | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        try:
            return api_call(
                self.http, method, self.url + path, token=token, expect=expect, **kwargs
            )
        except AssertionError as failed:
            raise AssertionError(f"{failed}\n{self.report()}") from None

    def sign_in(self, email: str, password: str = PASSWORD) -> str:
        """An access token minted by the API itself (the real clock's), kept per account."""
        if email not in self._tokens:
            answer = self.call(
                "POST",
                "/api/v1/auth/login",
                json={"email": email, "password": password},
                expect=200,
            )
            self._tokens[email] = answer.json()["access_token"]
        return self._tokens[email]

    def admin_token(self) -> str:
        return self.sign_in(self.admin_email, ADMIN_PASSWORD)

    def new_clinician(self, name: str = "Dr. End To End") -> dict[str, str]:
        """A clinician made by the admin and activated: `id`, `email`, `token`."""
        email = f"clinician-{secrets.token_hex(5)}@example.test"
        created = self.call(
            "POST",
            "/api/v1/clinicians",
            token=self.admin_token(),
            json={"email": email, "name": name},
            expect=201,
        ).json()
        return {"id": created["id"], "email": email, "token": self._activate(email, created)}

    def new_patient(self, clinician_id: str, name: str = "Pat End To End") -> dict[str, str]:
        """A patient made by the admin with `clinician_id` on the care team, and activated."""
        email = f"patient-{secrets.token_hex(5)}@example.test"
        created = self.call(
            "POST",
            "/api/v1/patients",
            token=self.admin_token(),
            json={
                "email": email,
                "name": name,
                "date_of_birth": "1980-01-02",
                "timezone": "Europe/Berlin",
                "clinician_id": clinician_id,
                "emergency_contact": {"name": "Em Contact", "phone": "+1 555 0100"},
            },
            expect=201,
        ).json()
        return {"id": created["id"], "email": email, "token": self._activate(email, created)}

    def _activate(self, email: str, created: dict[str, Any]) -> str:
        """Activate a new account with its invitation token; the access token it answers."""
        pair = self.call(
            "POST",
            "/api/v1/auth/activate",
            json={"token": created["invitation_token"], "password": PASSWORD},
            expect=200,
        ).json()
        self._tokens[email] = pair["access_token"]
        return str(pair["access_token"])

    @contextmanager
    def webhook(self, url: str, events: list[str]) -> Iterator[dict[str, Any]]:
        """An endpoint registered for the test (`id`, `secret`, ...), deleted afterwards so
        that later tests' events do not reach the test's receiver."""
        created = self.call(
            "POST",
            "/api/v1/webhooks",
            token=self.admin_token(),
            json={"url": url, "events": events},
            expect=201,
        ).json()
        try:
            yield created
        finally:
            with suppress(requests.RequestException, AssertionError):
                self.call("DELETE", f"/api/v1/webhooks/{created['id']}", token=self.admin_token())

    def engine(self) -> Engine:
        """The stack's database, read directly by the test (no pool: nothing kept open)."""
        if self._engine is None:
            self._engine = create_engine(self.database_url, poolclass=NullPool)
        return self._engine

    def read(self, statement: Any) -> list[Any]:
        with Session(self.engine()) as session:
            return list(session.execute(statement).all())

    def report(self) -> str:
        """The tails of every process's log, for a failure message."""
        parts = [f"--- api log:\n{self.api.log_tail(30)}"]
        for worker in self.workers:
            tail = "\n".join(worker.log_text().splitlines()[-30:])
            parts.append(f"--- {worker.name} log:\n{tail}")
        return "\n".join(parts)

    def logs(self) -> str:
        """Everything every process wrote."""
        return self.api.log_text() + "".join(worker.log_text() for worker in self.workers)


@contextmanager
def running_stack(
    log_dir: Path,
    *,
    workers: int = 1,
    redis: RedisServer | None = None,
    settings: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    """A migrated database of the suite's backend with one admin, an SMTP server, the API and
    `workers` worker processes; everything stopped and removed afterwards, whatever happened."""
    queue_name = f"telehealth-e2e-{uuid.uuid4().hex[:10]}"
    if backend() == "sqlite":
        queue_url = f"sqlite:///{log_dir / 'queue.sqlite3'}"
    else:
        queue_url = queue_for_backend(redis)
    with ExitStack() as cleanup:
        if backend() != "sqlite":  # not while a fault run restarts PostgreSQL
            cleanup.enter_context(postgres_lock(exclusive=False))
        database_url, admin_email = cleanup.enter_context(provisioned_database("telehealth_e2e"))
        smtp = cleanup.enter_context(running_smtp_server())
        if queue_url.startswith("redis://"):
            cleanup.callback(forget_queue, queue_url, queue_name)
        env = service_env(
            database_url=database_url,
            queue_url=queue_url,
            queue_name=queue_name,
            smtp_url=smtp.url,
            **dict(settings or {}),
        )
        api = Instance("api", dict(env), log_dir)
        cleanup.callback(api.stop)
        crew = [Worker(f"worker-{n}", dict(env), log_dir) for n in range(1, workers + 1)]
        for worker in crew:
            cleanup.callback(worker.stop)
        api.launch()  # importing the app takes a second or two: start them side by side
        for worker in crew:
            worker.launch()
        api.start()
        http = cleanup.enter_context(requests.Session())
        stack = Stack(
            api=api,
            workers=crew,
            smtp=smtp,
            database_url=database_url,
            admin_email=admin_email,
            env=env,
            log_dir=log_dir,
            http=http,
        )
        cleanup.callback(lambda: stack._engine.dispose() if stack._engine else None)
        yield stack
