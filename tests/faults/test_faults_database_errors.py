"""A database that fails in the middle of a request answers 503 problem+json with Retry-After,
never 500, wherever it fails: at the first query (the token check), at a later statement, or
at commit. A phone that retries with the same Idempotency-Key then stores its check-in exactly
once, including when the commit went through but its answer was lost.

The failures are injected at the driver boundary of the app's own engine (the DB-API's
OperationalError, which SQLAlchemy wraps as it would a real one), so this runs on SQLite and
PostgreSQL alike and disturbs nothing else; the fault run (fault_run.py,
test_faults_postgres_restart.py) does the same with a real PostgreSQL restart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select

from telehealth.checkins.models import MoodCheckIn
from telehealth.extensions import db
from telehealth.idempotency import IdempotencyRecord
from tests.conftest import SUITE_NOW
from tests.databases import app_on_own_database
from tests.factories import PASSWORD, Actor, make_patient, sign_in
from tests.problems import assert_problem

CHECKINS = "/api/v1/checkins"
REPLAYED = "Idempotent-Replayed"
#: One moment for every submission, so a retry sends exactly the body it sent before: half an
#: hour before the suite's clock (tests/conftest.py SUITE_NOW) starts.
RECORDED_AT = (SUITE_NOW - timedelta(minutes=30)).isoformat()


@pytest.fixture(scope="module")
def committed_app() -> Iterator[Flask]:
    """An app on a database of its own whose commits are real (the suite's `app` fixture turns
    them into savepoints, which never reach the driver's commit)."""
    with app_on_own_database("telehealth_faults_errors", REDIS_URL=None) as app:
        yield app


@pytest.fixture
def engine(committed_app: Flask) -> Engine:
    return committed_app.extensions["database"]["engine"]  # type: ignore[no-any-return]


@pytest.fixture
def client(committed_app: Flask) -> FlaskClient:
    return committed_app.test_client()


@pytest.fixture
def patient(committed_app: Flask) -> Actor:
    return sign_in(committed_app, make_patient(committed_app, None).user)


@pytest.fixture(autouse=True)
def no_unhandled_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING, logger="telehealth")
    yield
    unhandled = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not unhandled, [r.getMessage() for r in unhandled]


class Outage:
    """The database going away under the app's engine, at the driver boundary: from `begin()`
    (or from the first statement or commit that `trigger` picks) until `end()`, connecting,
    executing, committing, rolling back and pinging all raise the driver's own
    OperationalError (psycopg's or sqlite3's, wrapped by SQLAlchemy as a real one is), and
    SQLAlchemy is told those are disconnects, as it is for a lost server."""

    def __init__(self, engine: Engine, patch: pytest.MonkeyPatch) -> None:
        self.engine = engine
        self.dialect = dialect = engine.dialect
        self.down = False
        self.errors: list[Exception] = []
        #: Where the outage starts by itself: ("execute", SQL prefix) or ("commit", "before"
        #: or "after" the commit reached the database).
        self.trigger: tuple[str, str] | None = None
        originals = {
            name: getattr(dialect, name)
            for name in ("connect", "do_execute", "do_commit", "do_rollback", "do_ping")
        }
        is_disconnect = dialect.is_disconnect

        def connect(*args: Any, **kwargs: Any) -> Any:
            self.check()
            return originals["connect"](*args, **kwargs)

        def do_execute(cursor: Any, statement: str, parameters: Any, context: Any = None) -> Any:
            kind, prefix = self.trigger or ("", "")
            if kind == "execute" and statement.lstrip().upper().startswith(prefix.upper()):
                self.begin()
            self.check()
            return originals["do_execute"](cursor, statement, parameters, context)

        def do_commit(connection: Any) -> None:
            if self.trigger == ("commit", "before"):
                self.begin()
            self.check()
            originals["do_commit"](connection)
            if self.trigger == ("commit", "after"):
                self.begin()  # committed, but the answer never arrives
                self.check()

        def do_rollback(connection: Any) -> None:
            self.check()
            originals["do_rollback"](connection)

        def do_ping(connection: Any) -> bool:
            self.check()
            return originals["do_ping"](connection)  # type: ignore[no-any-return]

        def disconnect(error: Exception, *args: Any) -> bool:
            return error in self.errors or is_disconnect(error, *args)

        for name, replacement in (
            ("connect", connect),
            ("do_execute", do_execute),
            ("do_commit", do_commit),
            ("do_rollback", do_rollback),
            ("do_ping", do_ping),
            ("is_disconnect", disconnect),
        ):
            patch.setattr(dialect, name, replacement)

    def begin(self) -> None:
        self.down, self.trigger = True, None

    def end(self) -> None:
        self.down = False

    def check(self) -> None:
        if self.down:
            error = self.dialect.loaded_dbapi.OperationalError("server closed the connection")
            self.errors.append(error)
            raise error


@pytest.fixture
def outage(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Outage:
    return Outage(engine, monkeypatch)


def submit(client: FlaskClient, patient: Actor, key: str) -> Any:
    return client.post(
        CHECKINS,
        json={
            "recorded_at": RECORDED_AT,
            "mood": 4,
            "note": f"faults {key}",
        },
        headers={**patient.headers, "Idempotency-Key": key},
    )


def stored(app: Flask, patient: Actor, key: str) -> tuple[int, int]:
    """(check-ins with this key's note, idempotency records of this key)."""
    with app.app_context(), db.begin() as session:
        checkins = session.scalar(
            select(func.count())
            .select_from(MoodCheckIn)
            .where(MoodCheckIn.patient_id == patient.user.id, MoodCheckIn.note == f"faults {key}")
        )
        records = session.scalar(
            select(func.count())
            .select_from(IdempotencyRecord)
            .where(IdempotencyRecord.user_id == patient.user.id, IdempotencyRecord.key == key)
        )
    return int(checkins or 0), int(records or 0)


def assert_unavailable(response: Any) -> None:
    assert_problem(response, 503)
    assert response.headers["Retry-After"] == "5"


def test_faults_database_down_at_the_first_query_is_503(
    committed_app: Flask, engine: Engine, client: FlaskClient, patient: Actor, outage: Outage
) -> None:
    engine.dispose()  # no pooled connection left: the next request has to connect
    outage.begin()
    assert_unavailable(submit(client, patient, "first-query"))  # the token check's query
    assert_unavailable(client.get("/readyz"))
    assert_unavailable(client.get("/api/v1/me", headers=patient.headers))
    login = client.post(
        "/api/v1/auth/login", json={"email": patient.user.email, "password": PASSWORD}
    )
    assert_unavailable(login)
    assert client.get("/healthz").status_code == 200
    outage.end()

    assert client.get("/readyz").status_code == 200
    retried = submit(client, patient, "first-query")
    assert retried.status_code == 201, retried.get_data(as_text=True)
    assert stored(committed_app, patient, "first-query") == (1, 1)


def test_faults_connection_lost_at_a_later_statement_is_503(
    committed_app: Flask, client: FlaskClient, patient: Actor, outage: Outage
) -> None:
    """Lost while the check-in itself is inserted: after the token check, the idempotency
    claim and the scoring have run in the request's transaction."""
    outage.trigger = ("execute", "INSERT INTO mood_checkins")
    assert_unavailable(submit(client, patient, "later-statement"))
    assert outage.down
    assert_unavailable(submit(client, patient, "later-statement"))  # still down: still 503
    outage.end()

    assert stored(committed_app, patient, "later-statement") == (0, 0)
    retried = submit(client, patient, "later-statement")
    assert retried.status_code == 201, retried.get_data(as_text=True)
    assert REPLAYED not in retried.headers
    assert stored(committed_app, patient, "later-statement") == (1, 1)


def test_faults_commit_that_fails_is_503_and_the_retry_stores_once(
    committed_app: Flask, client: FlaskClient, patient: Actor, outage: Outage
) -> None:
    outage.trigger = ("commit", "before")
    assert_unavailable(submit(client, patient, "commit-fails"))
    assert outage.down
    outage.end()

    assert stored(committed_app, patient, "commit-fails") == (0, 0)
    retried = submit(client, patient, "commit-fails")
    assert retried.status_code == 201, retried.get_data(as_text=True)
    assert REPLAYED not in retried.headers
    assert stored(committed_app, patient, "commit-fails") == (1, 1)


def test_faults_commit_whose_answer_is_lost_replays_on_retry(
    committed_app: Flask, client: FlaskClient, patient: Actor, outage: Outage
) -> None:
    """The commit reached the database but the connection died before it said so: the client
    sees 503 and retries; the retry replays the stored answer instead of storing it again."""
    outage.trigger = ("commit", "after")
    assert_unavailable(submit(client, patient, "answer-lost"))
    assert outage.down
    outage.end()

    assert stored(committed_app, patient, "answer-lost") == (1, 1)
    retried = submit(client, patient, "answer-lost")
    assert retried.status_code == 201, retried.get_data(as_text=True)
    assert retried.headers[REPLAYED] == "true"
    assert stored(committed_app, patient, "answer-lost") == (1, 1)
