"""The feed secret is the credential of a subscribed calendar: it never reaches the logs (the
request line names the route template) nor the audit trail, which records each fetch as the
clinician's read of their sessions."""

from __future__ import annotations

import logging
import sys

import pytest
from sqlalchemy import select

from telehealth.audit.models import AuditEvent
from telehealth.extensions import db
from tests.calendar.helpers import (
    SUBSCRIPTION,
    assert_gone,
    feed_events,
    fetch,
    secret_of,
    subscribe,
)
from tests.sessions.helpers import scheduled

FEED_ROUTE = "/api/v1/calendar/feeds/<secret>.ics"


class CurrentStdout:
    """Writes to whatever `sys.stdout` is at the moment (pytest swaps it between phases)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture
def logs(caplog, capsys, monkeypatch):
    """Everything logged, SQL statements included, as one text: the records with every
    attribute, and the JSON lines the app printed. Ask for it before `app`: a connection decides
    on echoing SQL when it opens."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="telehealth")
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    for handler in logging.getLogger("telehealth").handlers:
        if isinstance(handler, logging.StreamHandler):
            monkeypatch.setattr(handler, "stream", CurrentStdout())

    def read() -> tuple[list[logging.LogRecord], str]:
        printed = capsys.readouterr()
        text = "\n".join(
            [
                *(f"{record.getMessage()} {vars(record)!r}" for record in caplog.records),
                printed.out,
                printed.err,
            ]
        )
        return caplog.records, text

    return read


def audit_events(app) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.sequence)))


def test_the_secret_never_reaches_the_logs(logs, app, client, world):
    scheduled(client, world.clinician, world.patient.id, "2026-12-02T13:00:00Z")
    old = subscribe(client, world.clinician)
    url = subscribe(client, world.clinician)  # rotated: both secrets were real once
    feed_events(client, url)
    assert_gone(client, old)
    client.delete(SUBSCRIPTION, headers=world.clinician.headers)
    assert_gone(client, url)

    records, text = logs()

    assert any(record.name.startswith("sqlalchemy.engine") for record in records)
    for secret in (secret_of(old), secret_of(url)):
        assert secret not in text
    feed_lines = [
        record
        for record in records
        if record.name == "telehealth.request" and record.method == "GET"
    ]
    assert feed_lines and {line.route for line in feed_lines} == {FEED_ROUTE}
    assert FEED_ROUTE in text


def test_a_fetch_is_audited_as_the_clinician_s_read_and_without_the_secret(app, client, world):
    url = subscribe(client, world.clinician)
    secret = secret_of(url)

    fetch(client, url)
    client.delete(SUBSCRIPTION, headers=world.clinician.headers)
    fetch(client, url)

    events = audit_events(app)
    fetched = [event for event in events if event.action == "calendar.feed"]
    assert [(e.status_code, e.outcome.value) for e in fetched] == [
        (200, "success"),
        (404, "denied"),
    ]
    assert str(fetched[0].actor_id) == world.clinician.id
    assert fetched[0].actor_role == "clinician"
    assert fetched[1].actor_id is None
    assert [e.action for e in events if e.action.startswith("calendar.")] == [
        "calendar.subscribe",
        "calendar.feed",
        "calendar.unsubscribe",
        "calendar.feed",
    ]
    for event in events:
        assert secret not in repr(
            {c.key: getattr(event, c.key) for c in AuditEvent.__table__.columns}
        )


def test_the_request_line_of_a_fetch_names_the_clinician(logs, app, client, world):
    url = subscribe(client, world.clinician)

    fetch(client, url)

    records, _text = logs()
    [line] = [r for r in records if r.name == "telehealth.request" and r.method == "GET"]
    assert (line.route, line.status, line.user_id) == (FEED_ROUTE, 200, world.clinician.id)
