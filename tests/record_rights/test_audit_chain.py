"""The audit trail is a hash chain (telehealth.audit.chain): `verify` and `flask audit verify`
find it intact after ordinary use, and find the first broken link after any change, removal or
reordering of a stored event.

Tampering needs the append-only triggers out of the way: `tampering()` switches them off inside
the test's transaction, which is rolled back after the test, triggers included."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError

from config import TestConfig
from telehealth.audit import chain
from telehealth.audit.models import AuditEvent, Outcome
from telehealth.extensions import db
from tests.record_rights.rights_helpers import (
    API,
    event_count,
    patient_url,
    stored_events,
    tampering,
)

EVENTS = AuditEvent.__table__
KEY = TestConfig.AUDIT_KEY


def verify(app):
    with app.app_context():
        return chain.verify(db.session)


def cli_verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


@pytest.fixture
def trail(client, world):
    """Six audited requests (allowed, refused, invalid) and one that is not audited: events
    #1 to #6."""
    client.get(patient_url(world.patient.id), headers=world.clinician.headers)
    client.get(patient_url(world.patient.id), headers=world.other_patient.headers)
    client.get(patient_url(world.patient.id))
    client.patch(patient_url(world.patient.id), json={"dose": "1g"}, headers=world.admin.headers)
    client.get(f"{API}/me", headers=world.patient.headers)
    client.get(f"{patient_url(world.patient.id)}/access-log", headers=world.patient.headers)
    client.get(f"{API}/audit", headers=world.admin.headers)
    return world


def event_id(app, sequence):
    [event] = stored_events(app, sequence=sequence)
    return str(event.id)


def test_an_empty_trail_is_intact(app):
    result = verify(app)
    assert (result.checked, result.broken) == (0, None)
    outcome = cli_verify(app)
    assert outcome.exit_code == 0, outcome.output
    assert "intact: 0 events" in outcome.output


def test_ordinary_use_leaves_an_intact_chain_with_every_event_counted(app, trail):
    result = verify(app)

    assert result.broken is None
    assert result.checked == 6 == event_count(app)


def test_events_are_numbered_from_one_and_each_links_to_the_one_before(app, trail):
    events = stored_events(app)

    assert [event.sequence for event in events] == [1, 2, 3, 4, 5, 6]
    assert events[0].prev_hash == chain.GENESIS
    for before, event in itertools.pairwise(events):
        assert event.prev_hash == before.hash
    for event in events:
        assert event.hash == chain.digest(event.prev_hash, event, KEY)
    assert len({event.hash for event in events}) == 6


def test_the_cli_reports_an_intact_chain_and_exits_0(app, trail):
    outcome = cli_verify(app)

    assert outcome.exit_code == 0, outcome.output
    assert "intact" in outcome.output
    assert "6 events verified" in outcome.output


def test_an_event_written_outside_the_chain_is_refused_by_the_database(app, trail):
    """Issue 18: a row inserted with `sequence = NULL` passed `verify` and showed in the access
    log. The database now refuses it (how it is reported if it got in anyway: test_audit_keyed)."""
    with app.app_context():
        session = db.session
        with pytest.raises(DBAPIError, match="chain"), session.begin_nested():
            session.execute(
                insert(EVENTS).values(
                    id=uuid.uuid4(),
                    occurred_at=datetime(2020, 1, 1, tzinfo=UTC),
                    action="patient.read",
                    resource_type="patient",
                    outcome="success",
                    status_code=200,
                )
            )

    assert event_count(app) == 6
    result = verify(app)
    assert (result.checked, result.broken) == (6, None)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("status_code", 200),
        ("outcome", "success"),
        ("actor_id", uuid.uuid4()),
        ("patient_id", uuid.uuid4()),
        ("action", "patient.list"),
        ("resource_id", None),
        ("client_address", "10.9.8.7"),
        ("occurred_at", datetime(2026, 1, 1, 12, 0, tzinfo=UTC)),
    ],
)
def test_changing_any_field_of_an_event_breaks_the_chain_at_that_event(app, trail, column, value):
    # Event #2 is the other patient's refused read: 404, denied, with an actor and a patient.
    with tampering(app) as session:
        session.execute(update(EVENTS).where(EVENTS.c.sequence == 2).values({column: value}))

    result = verify(app)

    assert result.broken is not None
    assert result.broken.sequence == 2
    assert result.broken.event_id == event_id(app, 2)
    assert "content" in result.broken.reason
    assert result.checked == 1


def test_a_changed_status_code_is_named_by_the_cli_which_exits_1(app, trail):
    with tampering(app) as session:
        session.execute(text("UPDATE audit_events SET status_code = 200 WHERE sequence = 3"))

    result = verify(app)
    outcome = cli_verify(app)

    assert (result.broken.sequence, result.checked) == (3, 2)
    assert outcome.exit_code == 1
    assert "BROKEN" in outcome.output
    assert "#3" in outcome.output
    assert event_id(app, 3) in outcome.output
    assert "intact" not in outcome.output


def test_later_events_do_not_hide_an_earlier_break(app, client, trail):
    with tampering(app) as session:
        session.execute(text("UPDATE audit_events SET status_code = 200 WHERE sequence = 3"))

    client.get(patient_url(trail.patient.id), headers=trail.patient.headers)
    client.get(patient_url(trail.patient.id), headers=trail.admin.headers)

    assert event_count(app) == 8
    result = verify(app)
    assert (result.broken.sequence, result.checked) == (3, 2)
    # The new events still link on from the (changed) last one.
    [seven, eight] = stored_events(app)[-2:]
    assert (seven.sequence, eight.sequence) == (7, 8)
    assert eight.prev_hash == seven.hash


def test_rehashing_a_changed_event_breaks_the_link_of_the_next_one(app, trail):
    with tampering(app) as session:
        row = session.execute(select(EVENTS).where(EVENTS.c.sequence == 3)).one()
        changed = SimpleNamespace(**row._asdict())
        changed.status_code = 200
        changed.outcome = Outcome(row.outcome)
        assert chain.digest(row.prev_hash, changed, KEY) != row.hash
        session.execute(
            update(EVENTS)
            .where(EVENTS.c.sequence == 3)
            .values(status_code=200, hash=chain.digest(row.prev_hash, changed, KEY))
        )

    result = verify(app)

    assert result.broken is not None
    assert result.broken.sequence == 4
    assert "link" in result.broken.reason
    assert result.checked == 3


def test_a_deleted_event_is_reported_missing(app, trail):
    with tampering(app) as session:
        session.execute(text("DELETE FROM audit_events WHERE sequence = 3"))

    result = verify(app)
    outcome = cli_verify(app)

    assert result.broken is not None
    assert result.broken.sequence == 4
    assert "missing" in result.broken.reason
    assert "3" in result.broken.reason
    assert result.checked == 2
    assert outcome.exit_code == 1
    assert "#4" in outcome.output
    assert "missing" in outcome.output


def test_a_deleted_first_event_is_reported_missing(app, trail):
    with tampering(app) as session:
        session.execute(text("DELETE FROM audit_events WHERE sequence = 1"))

    result = verify(app)

    assert (result.broken.sequence, result.checked) == (2, 0)
    assert "missing" in result.broken.reason


def test_swapping_two_events_places_in_the_chain_is_caught(app, trail):
    with tampering(app) as session:
        # Through a free number: the sequence is unique.
        for old, new in ((2, -2), (3, 2), (-2, 3)):
            session.execute(
                text("UPDATE audit_events SET sequence = :new WHERE sequence = :old"),
                {"old": old, "new": new},
            )

    result = verify(app)
    outcome = cli_verify(app)

    assert result.broken is not None
    assert result.broken.sequence == 2
    assert result.checked == 1
    assert outcome.exit_code == 1
    assert "#2" in outcome.output


def test_swapping_whole_rows_with_their_links_is_caught(app, trail):
    """Move the links along with the rows, as a careful forger would: the links then check
    out, but each hash covers its event's number, so the event now at #2 no longer matches."""
    with tampering(app) as session:
        two, three = (
            session.execute(
                select(EVENTS.c.id, EVENTS.c.prev_hash, EVENTS.c.hash).where(
                    EVENTS.c.sequence == number
                )
            ).one()
            for number in (2, 3)
        )
        session.execute(update(EVENTS).where(EVENTS.c.id == two.id).values(sequence=-2))
        session.execute(
            update(EVENTS)
            .where(EVENTS.c.id == three.id)
            .values(sequence=2, prev_hash=two.prev_hash)
        )
        session.execute(
            update(EVENTS).where(EVENTS.c.id == two.id).values(sequence=3, prev_hash=three.hash)
        )

    result = verify(app)

    assert result.broken is not None
    assert result.broken.sequence == 2
    assert result.broken.event_id == str(three.id)
    assert "content" in result.broken.reason


def test_the_triggers_are_back_in_the_next_test(app, client, world):
    """The tampering above ran in rolled-back transactions: the trail is append-only again."""
    client.get(patient_url(world.patient.id), headers=world.patient.headers)
    with app.app_context():
        session = db.session
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text("UPDATE audit_events SET status_code = 500"))
