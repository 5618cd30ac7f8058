"""Real gunicorn processes of the app on a fresh PostgreSQL database, for the multi-instance
test (tests/instances) and the fault run (tests/faults).

Everything here talks to 127.0.0.1 only. The processes are started in their own session and
ended by their own process ids; nothing else on the machine is touched. Runs that restart
PostgreSQL (the fault run) take an exclusive file lock, runs that only need it to stay up (the
instance test) a shared one, so two of them on one machine never overlap.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import redis
import requests
from sqlalchemy.engine import make_url

from tests.databases import SERVER_URL, backend, temporary_database

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
#: One secret for every instance of a run (40+ characters; production refuses short ones).
SECRET = "instances-test-secret-" + "0123456789abcdef0123456789"
ADMIN_PASSWORD = "admin password for instance tests"
PATIENT_PASSWORD = "patient password for instance tests"
CLINICIAN_PASSWORD = "clinician password for instance tests"
LOCK_FILE = Path(tempfile.gettempdir()) / "telehealth-tests-postgres-restart.lock"

PG_VERSION = sorted(os.listdir("/etc/postgresql"))[-1] if Path("/etc/postgresql").is_dir() else "15"
PG_CTLCLUSTER = ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main"]
#: How the fault run stops and starts PostgreSQL; the environment may override both (e.g. a
#: private cluster while developing: FAULTS_PG_STOP="pg_ctl -D ... stop -m fast").
PG_STOP = shlex.split(os.environ.get("FAULTS_PG_STOP", "")) or [*PG_CTLCLUSTER, "stop"]
PG_START = shlex.split(os.environ.get("FAULTS_PG_START", "")) or [*PG_CTLCLUSTER, "start"]


def on_postgresql() -> bool:
    return backend() == "postgresql"


SKIP_REASON = (
    "needs PostgreSQL (TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/): runs real "
    "gunicorn processes on a PostgreSQL server"
)


@contextmanager
def postgres_lock(*, exclusive: bool, timeout: float = 300) -> Iterator[None]:
    """Serialize runs that restart PostgreSQL (exclusive) against runs that need it up."""
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    with LOCK_FILE.open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{LOCK_FILE} stayed locked for {timeout} s") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def postgres_answers(server_url: str | None = None) -> bool:
    server_url = server_url or SERVER_URL
    port = str(make_url(server_url).port or 5432) if server_url else "5432"
    result = subprocess.run(
        ["pg_isready", "-h", HOST, "-p", port, "-q"], check=False, capture_output=True
    )
    return result.returncode == 0


def ensure_postgres_running(server_url: str | None = None, timeout: float = 90) -> None:
    """Start PostgreSQL if it is not answering (again every few seconds: a start issued while
    a stop is still under way fails), and wait until it answers."""
    deadline = time.monotonic() + timeout
    next_start = time.monotonic()
    while not postgres_answers(server_url):
        if time.monotonic() > deadline:
            raise RuntimeError("PostgreSQL did not come back")
        if time.monotonic() >= next_start:
            subprocess.run(PG_START, check=False, capture_output=True, timeout=timeout)
            next_start = time.monotonic() + 3
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def redis_database(number: int) -> Iterator[str]:
    """A Redis database of its own, emptied before and after."""
    url = f"redis://{HOST}:6379/{number}"
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
        yield url
    finally:
        with suppress(redis.RedisError):
            client.flushdb()
        client.close()


def service_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a production instance: production settings, this database and Redis,
    the shared secrets; gunicorn, pool and login-limit settings of the caller's shell dropped
    (`extra` sets them)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GUNICORN_", "DATABASE_", "LOGIN_RATE_LIMIT_"))
    }
    env.update(
        TELEHEALTH_ENV="production",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=SECRET,
        JWT_SECRET_KEY=SECRET,
        AUDIT_KEY=SECRET,
        # Production requires email (invitations); these runs start no worker, so none is sent.
        SMTP_URL=f"smtp://{HOST}:25",
        MAIL_FROM="Telehealth <no-reply@instances.example>",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@contextmanager
def provisioned_database(prefix: str) -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL database, migrated, holding one admin (ADMIN_PASSWORD); yields
    (database URL, admin email) and drops the database afterwards.

    Done in this process (what `flask --app wsgi db upgrade` and `create-admin` do, without
    two more interpreter start-ups), with the test settings so that the `telehealth` logger
    keeps propagating to pytest's capture.
    """
    from flask_migrate import upgrade

    from config import load_config
    from telehealth import create_app
    from telehealth.accounts import service as accounts
    from telehealth.extensions import db

    with temporary_database(prefix) as url:
        app = create_app(load_config("test", DATABASE_URL=url, REDIS_URL=None))
        email = f"admin-{secrets.token_hex(4)}@example.test"
        with app.app_context():
            try:
                upgrade()
                with db.begin() as session:
                    accounts.create_admin(
                        session, email=email, name="Instance Admin", password=ADMIN_PASSWORD
                    )
            finally:
                db.engine.dispose()
        yield url, email


@dataclass
class Instance:
    """One gunicorn master (and its worker) serving the app on a port of its own."""

    name: str
    env: dict[str, str]
    log_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def launch(self) -> None:
        """Start gunicorn on a free port (returns at once; see `wait_ready`)."""
        self.port = free_port()
        env = {**self.env, "GUNICORN_BIND": f"{HOST}:{self.port}"}
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self, *, attempts: int = 3, timeout: float = 90) -> None:
        """Start gunicorn and wait for /readyz to answer 200 (another port if one is taken)."""
        for attempt in range(1, attempts + 1):
            if self.process is None:
                self.launch()
            if self._wait_ready(timeout):
                return
            self.stop()
            if attempt == attempts:
                raise RuntimeError(f"{self.name} did not become ready:\n{self.log_tail()}")

    def _wait_ready(self, timeout: float) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        with requests.Session() as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    return False
                with suppress(requests.RequestException):
                    if http.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                        return True
                time.sleep(0.1)
        return False

    def worker_pids(self) -> set[int]:
        """The master's children (the workers), read from /proc."""
        if self.process is None:
            return set()
        children: set[int] = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                # "pid (comm) state ppid ...": comm may hold spaces, so split after the ")".
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    children.add(int(entry.name))
        return children

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM to the master (it stops its workers); SIGKILL to its group if it lingers."""
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    with suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=15)
            else:
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


@contextmanager
def running_instances(
    env: Mapping[str, str], names: tuple[str, ...], log_dir: Path
) -> Iterator[list[Instance]]:
    """Start one instance per name with the same settings; stop them all afterwards."""
    instances = [Instance(name, dict(env), log_dir) for name in names]
    try:
        for instance in instances:  # importing the app takes seconds: start them side by side
            instance.launch()
        for instance in instances:
            instance.start()
        yield instances
    finally:
        for instance in instances:
            instance.stop()


def api_call(
    http: requests.Session,
    method: str,
    url: str,
    *,
    token: str | None = None,
    expect: int | None = None,
    **kwargs: Any,
) -> requests.Response:
    headers = dict(kwargs.pop("headers", {}) or {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = http.request(method, url, headers=headers, timeout=30, **kwargs)
    if expect is not None and response.status_code != expect:
        raise AssertionError(
            f"{method} {url}: expected {expect}, got {response.status_code}: {response.text}"
        )
    return response


def login(http: requests.Session, base_url: str, email: str, password: str) -> dict[str, Any]:
    response = api_call(
        http,
        "POST",
        f"{base_url}/api/v1/auth/login",
        json={"email": email, "password": password},
        expect=200,
    )
    return response.json()  # type: ignore[no-any-return]


def invitation_token(database_url: str, created: dict[str, Any]) -> str:
    """The invitation token of an account just created: production answers carry none (the
    invited person gets it by email, and these runs start no worker to send it), so a fresh
    one is issued straight in the database, as the email would carry."""
    from config import load_config
    from telehealth import create_app
    from telehealth.accounts.models import User
    from telehealth.accounts.service import issue_invitation
    from telehealth.extensions import db

    if "invitation_token" in created:
        return str(created["invitation_token"])
    app = create_app(load_config("test", DATABASE_URL=database_url, REDIS_URL=None))
    with app.app_context():
        try:
            with db.begin() as session:
                user = session.get_one(User, uuid.UUID(created["id"]))
                return issue_invitation(session, user)[0]
        finally:
            db.engine.dispose()


def create_clinician(
    http: requests.Session, base_url: str, admin_token: str, database_url: str
) -> str:
    """A clinician created by the admin and activated through the API (password
    CLINICIAN_PASSWORD); their email."""
    email = f"clinician-{secrets.token_hex(4)}@example.test"
    created = api_call(
        http,
        "POST",
        f"{base_url}/api/v1/clinicians",
        token=admin_token,
        json={"email": email, "name": "Dr. Instance"},
        expect=201,
    ).json()
    api_call(
        http,
        "POST",
        f"{base_url}/api/v1/auth/activate",
        json={"token": invitation_token(database_url, created), "password": CLINICIAN_PASSWORD},
        expect=200,
    )
    return email


def create_patient(
    http: requests.Session, base_url: str, admin_token: str, database_url: str
) -> dict[str, Any]:
    """A patient created by the admin and activated through the API; the patient's id, email
    and a fresh token pair. The admin names a new clinician as the first of the care team."""
    email = f"patient-{secrets.token_hex(4)}@example.test"
    clinician = api_call(
        http,
        "POST",
        f"{base_url}/api/v1/clinicians",
        token=admin_token,
        json={"email": f"clinician-{secrets.token_hex(4)}@example.test", "name": "Dr. Staff"},
        expect=201,
    ).json()
    created = api_call(
        http,
        "POST",
        f"{base_url}/api/v1/patients",
        token=admin_token,
        json={
            "email": email,
            "name": "Fault Run Patient",
            "date_of_birth": "1980-01-02",
            "timezone": "Europe/Berlin",
            "emergency_contact": {"name": "Em Contact", "phone": "+1 555 0100"},
            "clinician_id": clinician["id"],
        },
        expect=201,
    ).json()
    pair = api_call(
        http,
        "POST",
        f"{base_url}/api/v1/auth/activate",
        json={"token": invitation_token(database_url, created), "password": PATIENT_PASSWORD},
        expect=200,
    ).json()
    return {"id": created["id"], "email": email, **pair}
