"""A check-in that raises an alert is one transaction: fail it right after any of its steps and
nothing of it remains; retry it with the same Idempotency-Key and it is stored exactly once.

The steps, in the order they run for `POST /checkins` with an Idempotency-Key and a PHQ-9 whose
item 9 is answered 2:

1. the idempotency key is claimed (an INSERT under a unique constraint, `_claim`);
2. the check-in row is inserted;
3. the instrument score rows are inserted (two here: PHQ-9 and GAD-7);
4. the suicidal-ideation alert is inserted, and with it the outbox events (`raise_alerts`);
5. the idempotency record is updated with the response (flushed at the request boundary);
6. the audit event is appended to the chain (at the boundary, `chain.append`), and its row is
   inserted when the boundary commits;
7. the boundary commits.

Each step is made to fail right after it ran, once with a database failure (OperationalError:
503) and once with a bug (RuntimeError: 500, the way production answers, with exceptions not
propagated to the test client). The answer must be a 5xx problem, never a partial success.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from telehealth import idempotency
from telehealth.alerts.models import SafetyAlert
from telehealth.audit import chain
from telehealth.audit.models import AuditEvent, Outcome
from telehealth.checkins import service as checkins
from telehealth.checkins.models import InstrumentScore, MoodCheckIn
from telehealth.extensions import db
from telehealth.idempotency import IdempotencyRecord
from tests.hardening.hardening_helpers import ITEM9_TWO, assert_clean_problem, minutes_ago
from tests.problems import PROBLEM_JSON

KEY = "atomic-checkin-1"
GAD7_MILD = [1, 1, 1, 0, 0, 0, 0]


def checkin_body() -> dict[str, Any]:
    return {
        "recorded_at": minutes_ago(10),
        "mood": 2,
        "note": "A hard day.",
        "instruments": {"PHQ-9": ITEM9_TWO, "GAD-7": GAD7_MILD},
    }


def post(client, patient, body, key=KEY):
    return client.post(
        "/api/v1/checkins", json=body, headers={**patient.headers, "Idempotency-Key": key}
    )


@dataclass
class Stored:
    checkins: int
    scores: int
    alerts: int
    keys: int
    audited_successes: int


def stored(app, patient) -> Stored:
    """What the patient's check-ins left in the database, read through the test's connection."""
    user_id = patient.user.id

    def count(model: Any, *where: Any) -> int:
        return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    with app.app_context():
        return Stored(
            checkins=count(MoodCheckIn, MoodCheckIn.patient_id == user_id),
            scores=count(InstrumentScore, InstrumentScore.patient_id == user_id),
            alerts=count(SafetyAlert, SafetyAlert.patient_id == user_id),
            keys=count(IdempotencyRecord, IdempotencyRecord.user_id == user_id),
            audited_successes=count(
                AuditEvent,
                AuditEvent.action == "checkin.create",
                AuditEvent.outcome == Outcome.SUCCESS,
            ),
        )


NOTHING = Stored(checkins=0, scores=0, alerts=0, keys=0, audited_successes=0)
ONE_OF_EACH = Stored(checkins=1, scores=2, alerts=1, keys=1, audited_successes=1)


# --- failure injection ------------------------------------------------------------------------


@dataclass
class Fault:
    """Raises `error` once, the `after`-th time its step has run; then stands down, so the
    retry runs clean."""

    error: Callable[[], Exception]
    after: int = 1
    runs: int = 0
    fired: bool = False

    def step_ran(self) -> None:
        if self.fired:
            return
        self.runs += 1
        if self.runs >= self.after:
            self.fired = True
            raise self.error()


def operational_error() -> Exception:
    return OperationalError("injected", {}, ConnectionError("the database went away"))


def runtime_error() -> Exception:
    return RuntimeError("injected: a bug right after the step")


ERRORS = {
    "OperationalError": (operational_error, 503),
    "RuntimeError": (runtime_error, 500),
}


def _after_call(monkeypatch, owner: Any, name: str, fault: Fault) -> None:
    real = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        fault.step_ran()
        return result

    monkeypatch.setattr(owner, name, wrapper)


@dataclass
class Listeners:
    """Engine events registered for one test, removed after it."""

    engine: Any
    added: list[tuple[Any, str, Callable[..., None]]] = field(default_factory=list)

    def after_statement(self, starts_with: str, fault: Fault) -> None:
        """After a statement the service sends as SQL, not through the ORM's unit of work."""

        def listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip().startswith(starts_with):
                fault.step_ran()

        event.listen(self.engine, "after_cursor_execute", listener)
        self.added.append((self.engine, "after_cursor_execute", listener))


@pytest.fixture
def listeners(app) -> Iterator[Listeners]:
    registered = Listeners(app.extensions["database"]["engine"])
    yield registered
    for model, identifier, listener in registered.added:
        event.remove(model, identifier, listener)


def _fail_commit(monkeypatch, fault: Fault) -> None:
    """The boundary's commit: everything flushed to the database, then the COMMIT fails."""
    real = Session.commit

    def commit(self: Session) -> None:
        if not fault.fired:
            self.flush()
            fault.step_ran()
        real(self)

    monkeypatch.setattr(Session, "commit", commit)


def inject(step: str, fault: Fault, monkeypatch, listeners: Listeners) -> None:
    if step == "claim-key":
        _after_call(monkeypatch, idempotency, "_claim", fault)
    elif step == "checkin-row":
        listeners.after_statement("INSERT INTO mood_checkins", fault)
    elif step == "score-rows":
        listeners.after_statement("INSERT INTO instrument_scores", fault)  # both, one statement
    elif step == "alert":
        _after_call(monkeypatch, checkins, "raise_alerts", fault)
    elif step == "idempotency-update":
        listeners.after_statement("UPDATE idempotency_records", fault)
    elif step == "audit-append":
        _after_call(monkeypatch, chain, "append", fault)
    elif step == "audit-row":
        listeners.after_statement("INSERT INTO audit_events", fault)
    elif step == "commit":
        _fail_commit(monkeypatch, fault)
    else:  # pragma: no cover - a typo in STEPS
        raise AssertionError(step)


STEPS = [
    "claim-key",
    "checkin-row",
    "score-rows",
    "alert",
    "idempotency-update",
    "audit-append",
    "audit-row",
    "commit",
]


# --- the tests --------------------------------------------------------------------------------


@pytest.fixture
def production_errors(app, monkeypatch):
    """Answer unexpected exceptions as production does (a 500 problem), instead of re-raising
    them into the test client as Flask does under TESTING."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)


@pytest.mark.usefixtures("production_errors")
@pytest.mark.parametrize("error", list(ERRORS))
@pytest.mark.parametrize("step", STEPS)
def test_a_failure_after_any_step_leaves_nothing_and_the_retry_stores_one_of_each(
    app, client, world, monkeypatch, listeners, step, error
):
    make_error, status = ERRORS[error]
    fault = Fault(make_error)
    inject(step, fault, monkeypatch, listeners)
    body = checkin_body()

    failed = post(client, world.patient, body)

    assert fault.fired, f"the {step} step never ran"
    assert_clean_problem(failed, status)
    assert "Idempotent-Replayed" not in failed.headers
    assert stored(app, world.patient) == NOTHING

    retried = post(client, world.patient, body)

    assert retried.status_code == 201, retried.get_json()
    assert "Idempotent-Replayed" not in retried.headers
    answer = retried.get_json()
    assert [alert["kind"] for alert in answer["alerts"]] == ["suicidal_ideation"]
    assert answer["crisis_message"]
    assert answer["scores"]["PHQ-9"]["total"] == 2
    assert stored(app, world.patient) == ONE_OF_EACH

    replayed = post(client, world.patient, body)

    assert replayed.status_code == 201
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.get_data() == retried.get_data()
    # The replay is audited as a request of its own; it stores nothing else.
    assert stored(app, world.patient) == Stored(1, 2, 1, 1, audited_successes=2)
    with app.app_context():
        assert chain.verify(db.session).broken is None


@pytest.mark.usefixtures("production_errors")
@pytest.mark.parametrize("step", ["checkin-row", "alert", "audit-append", "commit"])
def test_a_failure_without_an_idempotency_key_leaves_nothing_either(
    app, client, world, monkeypatch, listeners, step
):
    inject(step, Fault(runtime_error), monkeypatch, listeners)

    failed = client.post("/api/v1/checkins", json=checkin_body(), headers=world.patient.headers)

    assert_clean_problem(failed, 500)
    assert stored(app, world.patient) == NOTHING


@pytest.mark.parametrize("step", ["checkin-row", "alert"])
def test_the_failed_attempt_is_on_the_record_as_failed(
    app, client, world, monkeypatch, listeners, step
):
    """A failure inside the view is rolled back, but the attempt is audited (as failed); only
    a failure of the commit itself leaves no event, since then nothing can be written."""
    inject(step, Fault(operational_error), monkeypatch, listeners)

    failed = post(client, world.patient, checkin_body())

    assert failed.status_code == 503
    assert failed.mimetype == PROBLEM_JSON
    with app.app_context():
        outcomes = db.session.execute(
            select(AuditEvent.outcome, AuditEvent.status_code).where(
                AuditEvent.action == "checkin.create"
            )
        ).all()
    assert [tuple(row) for row in outcomes] == [(Outcome.FAILED, 503)]


def test_a_different_body_after_a_failure_is_a_new_request_not_a_mismatch(
    app, client, world, monkeypatch, listeners
):
    """The failed request's key was rolled back with it: the key is free, not held by a body
    that was never stored."""
    inject("alert", Fault(operational_error), monkeypatch, listeners)
    assert post(client, world.patient, checkin_body()).status_code == 503

    other = {**checkin_body(), "mood": 7, "note": "Better after a walk."}
    response = post(client, world.patient, other)

    assert response.status_code == 201, response.get_json()
    assert json.loads(response.get_data())["mood"] == 7
    assert stored(app, world.patient) == ONE_OF_EACH
