"""Logs carry one structured line per request and never what the client sent as a secret or as
health data; request ids are echoed only when they are safe."""

from __future__ import annotations

import json
import logging
import re
import sys

import pytest

from tests.auth.helpers import ME, PATIENTS, login

SENTINEL = "Zebra-Sentinel-7f3a9c"
REQUEST_FIELDS = {"request_id", "method", "route", "status", "duration_ms"}
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


class CurrentStdout:
    """Writes to whatever `sys.stdout` is at the moment (pytest swaps it between phases)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture
def logs(caplog, capsys, monkeypatch):
    """Everything logged: `logs()` answers (records, text printed to stdout).

    The app's JSON handler writes to the stdout of the moment the app was built; point it at
    the stdout `capsys` captures so the formatted lines are checked too. SQL statements are
    logged as with `DATABASE_ECHO` on (INFO; DEBUG would add result rows, which is an operator's
    explicit choice). A connection decides on echo when it opens, so tests ask for this fixture
    before `app`/`client`.
    """
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="telehealth")
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    for handler in logging.getLogger("telehealth").handlers:
        if isinstance(handler, logging.StreamHandler):
            monkeypatch.setattr(handler, "stream", CurrentStdout())

    def read() -> tuple[list[logging.LogRecord], str]:
        captured = capsys.readouterr()
        return caplog.records, captured.out + captured.err

    return read


def everything_logged(records: list[logging.LogRecord], printed: str) -> str:
    """Every record with every attribute (extras included), and everything printed."""
    assert any(record.name.startswith("sqlalchemy.engine") for record in records), (
        "SQL statements were not logged: request `logs` before `app`"
    )
    return "\n".join([*(f"{record.getMessage()} {vars(record)!r}" for record in records), printed])


def request_lines(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [record for record in records if record.name == "telehealth.request"]


def printed_request_lines(printed: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in printed.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "telehealth.request"]


def test_a_password_never_reaches_the_logs(logs, client, world):
    assert login(client, world.clinician.user.email, SENTINEL).status_code == 401
    assert login(client, "nobody@example.test", SENTINEL).status_code == 401

    records, printed = logs()

    assert SENTINEL not in everything_logged(records, printed)
    lines = request_lines(records)
    assert [(line.method, line.route, line.status) for line in lines] == [
        ("POST", "/api/v1/auth/login", 401)
    ] * 2
    assert all(isinstance(line.duration_ms, float) for line in lines)
    assert all(GENERATED_ID.match(line.request_id) for line in lines)
    printed_lines = printed_request_lines(printed)
    assert len(printed_lines) == 2
    assert all(REQUEST_FIELDS <= line.keys() for line in printed_lines)


def test_a_patient_name_never_reaches_the_logs(logs, client, world):
    patient = {
        "email": "sentinel.patient@example.test",
        "name": f"Patient {SENTINEL}",
        "date_of_birth": "1990-05-01",
        "timezone": "Europe/Berlin",
        "emergency_contact": {"name": f"Contact {SENTINEL}", "phone": "+49 30 1234567"},
    }
    response = client.post(PATIENTS, json=patient, headers=world.clinician.headers)
    assert response.status_code == 201, response.get_data(as_text=True)

    records, printed = logs()

    assert SENTINEL not in everything_logged(records, printed)
    (line,) = request_lines(records)
    assert (line.method, line.route, line.status) == ("POST", "/api/v1/patients", 201)
    assert line.user_id == world.clinician.id
    (printed_line,) = printed_request_lines(printed)
    assert REQUEST_FIELDS <= printed_line.keys()
    assert printed_line["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize(
    "supplied", ["mobile-7.2:req_0042", "x" * 128], ids=["typical", "128 chars"]
)
def test_a_safe_request_id_is_echoed_and_logged(logs, client, world, supplied):
    response = client.get(ME, headers={**world.patient.headers, "X-Request-ID": supplied})

    assert response.headers["X-Request-ID"] == supplied
    (line,) = request_lines(logs()[0])
    assert line.request_id == supplied


@pytest.mark.parametrize(
    "supplied",
    ["has spaces in it", "x" * 500, "x" * 129, "", "semi;colon", "<script>"],
    ids=["spaces", "500 chars", "129 chars", "empty", "semicolon", "markup"],
)
def test_an_unsafe_request_id_is_replaced(logs, client, world, supplied):
    response = client.get(ME, headers={**world.patient.headers, "X-Request-ID": supplied})

    replaced = response.headers["X-Request-ID"]
    assert replaced != supplied
    assert GENERATED_ID.match(replaced)
    (line,) = request_lines(logs()[0])
    assert line.request_id == replaced


def test_each_request_gets_its_own_id(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
