"""The export reads a record in a fixed number of queries, however much it holds: a second
record's worth of sessions, notes, amendments, check-ins, scores and alerts (built for the same
patient) adds rows to the body and no statement to the request, in either format. The FHIR
Bundle, which says more than the JSON, asks the database for nothing more."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.export.export_helpers import build_record, exported_ok

CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    """Every query (not transaction control) sent through the app's engine in the block."""
    engine: Engine = app.extensions["database"]["engine"]
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not CONTROL.match(statement):
            sent.append(" ".join(statement.split())[:160])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def queries(app: Flask, client: FlaskClient, actor: Any, fmt: str) -> list[str]:
    with counting(app) as sent:
        exported_ok(client, actor, actor.id, format=fmt)
    return sent


@pytest.mark.parametrize("fmt", ["json", "fhir"])
def test_an_export_costs_the_same_queries_for_twice_the_record(
    app: Flask, client: FlaskClient, world: Any, fmt: str
) -> None:
    build_record(client, world.clinician, world.patient, "first-marker")
    once = queries(app, client, world.patient, fmt)
    build_record(client, world.clinician, world.patient, "second-marker", days_ahead=10)
    twice = queries(app, client, world.patient, fmt)

    assert len(twice) == len(once), "\n".join(twice)


def test_the_fhir_bundle_asks_no_more_than_the_json(
    app: Flask, client: FlaskClient, world: Any
) -> None:
    build_record(client, world.clinician, world.patient, "marker")
    as_json = queries(app, client, world.patient, "json")
    as_fhir = queries(app, client, world.patient, "fhir")

    # Two more: which clinicians the bundle names, then their rows (each a Practitioner entry;
    # JSON gives only their ids, and the care team's within the patient).
    assert len(as_fhir) <= len(as_json) + 2, "\n".join(as_fhir)
