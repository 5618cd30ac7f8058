"""Issue 18, finding 1: the audit trail could be forged or cut and `audit verify` still said
intact. Each way the review found, reproduced as reported, now refused or detected:

- a row inserted with `sequence = NULL`: the database refuses it; one that gets in anyway (its
  triggers switched off) is named by `verify` (exit 1) and shown in no access log nor `/audit`;
- the chain re-hashed without the key after deleting a clinician's events: `verify` names the
  first re-hashed event (exit 1), the chain being an HMAC under AUDIT_KEY;
- a deleted tail: `verify --anchor` names the missing anchored head (exit 1).

Tampering runs in the test's transaction, rolled back after it, triggers included."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from config import _development_secret, load_config
from telehealth.audit import chain
from telehealth.audit.models import AuditEvent, Outcome
from telehealth.extensions import db
from tests.record_rights.rights_helpers import (
    API,
    dialect,
    event_count,
    patient_url,
    stored_events,
)

EVENTS = AuditEvent.__table__


@contextmanager
def tamper(app: Flask) -> Iterator[Session]:
    """rights_helpers.tampering, but usable more than once in a test: the append-only triggers
    off for the rest of the test's transaction (rolled back after it)."""
    with app.app_context():
        session = db.session
        if dialect(session) == "postgresql":
            session.execute(
                text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
            )
        else:
            session.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            session.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        yield session
        session.commit()


@pytest.fixture
def trail(client, world):
    """Eight events: the clinician (#1, #3, #5, #7) and the patient (#2, #4, #6, #8) reading
    the patient's record in turn."""
    for _ in range(4):
        client.get(patient_url(world.patient.id), headers=world.clinician.headers)
        client.get(patient_url(world.patient.id), headers=world.patient.headers)
    return world


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["audit", *args])


def event_id(app, sequence):
    [event] = stored_events(app, sequence=sequence)
    return str(event.id)


def forged_export(world):
    """What the reviewer inserted: "Dr C3 Other, patient.export, success", with no sequence."""
    return {
        "id": uuid.uuid4(),
        "occurred_at": datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        "actor_id": uuid.UUID(world.other_clinician.id),
        "actor_role": "clinician",
        "action": "patient.export",
        "resource_type": "patient",
        "resource_id": world.patient.id,
        "patient_id": uuid.UUID(world.patient.id),
        "outcome": "success",
        "status_code": 200,
    }


# --- an event outside the chain ----------------------------------------------------------------


def test_the_database_refuses_an_event_inserted_without_a_sequence(app, trail):
    with app.app_context():
        session = db.session
        with pytest.raises(DBAPIError, match="chain"), session.begin_nested():
            session.execute(insert(EVENTS).values(forged_export(trail)))
    assert event_count(app) == 8


def test_the_database_refuses_an_event_with_links_made_up_by_its_writer(app, trail):
    """On SQLite the application links in the INSERT, so a linked row is let in (and without
    the key its hash cannot verify: below); PostgreSQL links only at commit, and refuses it."""
    with app.app_context():
        session = db.session
        if dialect(session) != "postgresql":
            pytest.skip("SQLite inserts linked rows; verify checks their HMAC")
        with pytest.raises(DBAPIError, match="chain"), session.begin_nested():
            session.execute(
                insert(EVENTS).values(
                    {**forged_export(trail), "sequence": 9, "prev_hash": "0" * 64, "hash": "0" * 64}
                )
            )


def smuggle_unlinked(app, world):
    """Insert the forged export with its insert trigger switched off (someone with control of
    the database); returns its id."""
    values = forged_export(world)
    with tamper(app) as session:
        if dialect(session) == "postgresql":
            session.execute(
                text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_only_pending")
            )
        else:
            session.execute(text("DROP TRIGGER audit_events_linked_only"))
        session.execute(insert(EVENTS).values(values))
    return str(values["id"])


def test_an_unlinked_event_that_got_in_is_named_by_verify(app, trail):
    forged = smuggle_unlinked(app, trail)

    assert event_count(app) == 9
    outcome = cli(app, "verify")

    assert outcome.exit_code == 1
    assert "BROKEN" in outcome.output and "intact" not in outcome.output
    assert forged in outcome.output
    assert "not linked" in outcome.output
    with app.app_context():
        result = chain.verify(db.session)
    assert result.broken is not None
    assert (result.broken.sequence, result.broken.event_id) == (None, forged)
    assert result.checked == 8


def test_an_unlinked_event_is_in_no_access_log_nor_the_audit_trail(app, client, trail):
    forged = smuggle_unlinked(app, trail)

    access_log = client.get(
        f"{patient_url(trail.patient.id)}/access-log?limit=100", headers=trail.patient.headers
    )
    audit = client.get(f"{API}/audit?limit=100", headers=trail.admin.headers)
    exports = client.get(f"{API}/audit?action=patient.export", headers=trail.admin.headers)

    assert access_log.status_code == audit.status_code == exports.status_code == 200
    assert forged not in {entry["id"] for entry in access_log.get_json()["items"]}
    assert forged not in {entry["id"] for entry in audit.get_json()["items"]}
    assert exports.get_json()["items"] == []
    assert "patient.export" not in {entry["action"] for entry in access_log.get_json()["items"]}
    assert len(access_log.get_json()["items"]) == 8


# --- a chain re-hashed without the key ----------------------------------------------------------


def rehash_without_the_key(app, *, drop_actor: str, key: str | None) -> int:
    """Delete one actor's events and rebuild the rest of the chain as the reviewer did: numbers
    closed up, every link recomputed (plain SHA-256 with key None, else with a guessed key).
    Returns the number of the first event whose hash was recomputed."""
    with tamper(app) as session:
        session.execute(EVENTS.delete().where(EVENTS.c.actor_id == uuid.UUID(drop_actor)))
        rows = session.execute(select(EVENTS).order_by(EVENTS.c.sequence)).all()
        prev, first_changed = chain.GENESIS, 0
        for number, row in enumerate(rows, start=1):
            event = AuditEvent(**{**row._asdict(), "sequence": number})
            event.outcome = Outcome(row.outcome)
            new_hash = chain.digest(prev, event, key)
            if not first_changed and (row.sequence, row.hash) != (number, new_hash):
                first_changed = number
            session.execute(
                update(EVENTS)
                .where(EVENTS.c.id == row.id)
                .values(sequence=number, prev_hash=prev, hash=new_hash)
            )
            prev = new_hash
    return first_changed


@pytest.mark.parametrize("guess", [None, "a-key-that-is-not-the-audit-key-0123456789"])
def test_a_chain_rehashed_without_the_key_is_caught_at_its_first_event(app, trail, guess):
    first = rehash_without_the_key(app, drop_actor=trail.clinician.id, key=guess)

    assert first == 1
    assert [event.sequence for event in stored_events(app)] == [1, 2, 3, 4]
    outcome = cli(app, "verify")

    assert outcome.exit_code == 1, outcome.output
    assert "BROKEN at event #1" in outcome.output
    assert event_id(app, 1) in outcome.output
    assert "content does not match" in outcome.output


def test_rehashed_with_the_key_it_verifies_which_is_why_the_key_stays_outside(app, trail):
    """The key is what a forger lacks: with it, the same rebuild verifies (the anchor still
    catches it, see below). So AUDIT_KEY is kept where the database's users cannot read it."""
    rehash_without_the_key(app, drop_actor=trail.clinician.id, key=app.config["AUDIT_KEY"])

    assert cli(app, "verify").exit_code == 0


# --- anchors: a deleted tail ---------------------------------------------------------------------


def write_anchor(app, path: Path) -> dict:
    outcome = cli(app, "anchor")
    assert outcome.exit_code == 0, outcome.output
    [line] = outcome.output.splitlines()
    with path.open("a") as file:
        file.write(line + "\n")
    return json.loads(line)


def test_an_anchor_is_one_signed_json_line_of_the_head(app, trail, tmp_path):
    head = write_anchor(app, tmp_path / "anchors.jsonl")

    assert set(head) == {"sequence", "event_id", "hash", "at", "unkeyed_through", "mac"}
    assert head["sequence"] == 8
    assert head["event_id"] == event_id(app, 8)
    assert head["hash"] == stored_events(app, sequence=8)[0].hash
    assert head["unkeyed_through"] == 0
    assert chain.check_anchor(head, key=app.config["AUDIT_KEY"]) == head


def test_verify_against_an_anchor_of_an_intact_chain_exits_0(app, client, trail, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    write_anchor(app, anchors)
    client.get(patient_url(trail.patient.id), headers=trail.patient.headers)

    outcome = cli(app, "verify", "--anchor", str(anchors))

    assert outcome.exit_code == 0, outcome.output
    assert "9 events verified, anchored head #8 present" in outcome.output


def test_a_deleted_tail_passes_plain_verify_but_not_verify_with_the_anchor(app, trail, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    head = write_anchor(app, anchors)
    with tamper(app) as session:
        session.execute(text("DELETE FROM audit_events WHERE sequence > 5"))

    assert cli(app, "verify").exit_code == 0  # what nothing outside the database could catch
    outcome = cli(app, "verify", "--anchor", str(anchors))

    assert outcome.exit_code == 1
    assert "BROKEN at event #8" in outcome.output
    assert head["event_id"] in outcome.output
    assert "anchored head #8 is missing" in outcome.output
    assert "5 events before it verified" in outcome.output


def test_a_rewrite_with_the_key_is_caught_by_the_anchor(app, trail, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    write_anchor(app, anchors)
    rehash_without_the_key(app, drop_actor=trail.clinician.id, key=app.config["AUDIT_KEY"])

    outcome = cli(app, "verify", "--anchor", str(anchors))

    assert outcome.exit_code == 1
    assert "BROKEN at event #8" in outcome.output
    assert "missing" in outcome.output


def test_verify_uses_the_last_anchor_of_the_file(app, client, trail, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    write_anchor(app, anchors)
    client.get(patient_url(trail.patient.id), headers=trail.patient.headers)
    write_anchor(app, anchors)
    with tamper(app) as session:
        session.execute(text("DELETE FROM audit_events WHERE sequence = 9"))

    outcome = cli(app, "verify", "--anchor", str(anchors))

    assert outcome.exit_code == 1
    assert "anchored head #9 is missing" in outcome.output


@pytest.mark.parametrize(
    "change", [{"sequence": 5}, {"hash": "0" * 64}, {"mac": "0" * 64}, {"extra": 1}]
)
def test_a_changed_or_forged_anchor_is_refused(app, trail, tmp_path, change):
    head = write_anchor(app, tmp_path / "real.jsonl")
    forged = tmp_path / "forged.jsonl"
    forged.write_text(json.dumps({**head, **change}) + "\n")

    outcome = cli(app, "verify", "--anchor", str(forged))

    assert outcome.exit_code == 1
    assert "anchor REFUSED" in outcome.output


def test_an_anchor_signed_with_another_key_is_refused(app, trail, tmp_path):
    with app.app_context():
        head = chain.anchor(db.session, key="another-key-entirely-0123456789abcdef")
    path = tmp_path / "other.jsonl"
    path.write_text(json.dumps(head) + "\n")

    outcome = cli(app, "verify", "--anchor", str(path))

    assert outcome.exit_code == 1
    assert "signature does not match" in outcome.output


# --- events from before the key -----------------------------------------------------------------


def set_cutover(app, unkeyed_through: int) -> None:
    """Rewrite events 1..n as they were linked before the key (plain SHA-256) and record the
    cut-over there, as an installation upgraded with n events would be; the cut-over's own
    triggers switched off for it."""
    with tamper(app) as session:
        if dialect(session) == "postgresql":
            session.execute(
                text("ALTER TABLE audit_chain_cutover DISABLE TRIGGER audit_chain_cutover_fixed")
            )
        else:
            for action in ("insert", "update", "delete"):
                session.execute(text(f"DROP TRIGGER IF EXISTS audit_chain_cutover_no_{action}"))
        session.execute(text("DELETE FROM audit_chain_cutover"))
        session.execute(
            text("INSERT INTO audit_chain_cutover (unkeyed_through) VALUES (:n)"),
            {"n": unkeyed_through},
        )
        prev = chain.GENESIS
        for row in session.execute(select(EVENTS).order_by(EVENTS.c.sequence)).all():
            event = AuditEvent(**row._asdict())
            event.outcome = Outcome(row.outcome)
            key = None if row.sequence <= unkeyed_through else app.config["AUDIT_KEY"]
            new_hash = chain.digest(prev, event, key)
            session.execute(
                update(EVENTS).where(EVENTS.c.id == row.id).values(prev_hash=prev, hash=new_hash)
            )
            prev = new_hash


def test_events_from_before_the_key_verify_as_plain_sha256_up_to_the_cutover(app, trail):
    set_cutover(app, 4)

    outcome = cli(app, "verify")

    assert outcome.exit_code == 0, outcome.output
    assert "8 events verified (4 of them from before the key" in outcome.output


def test_an_unkeyed_event_after_the_cutover_is_caught(app, trail):
    set_cutover(app, 4)
    with tamper(app) as session:
        rows = session.execute(select(EVENTS).order_by(EVENTS.c.sequence)).all()
        event = AuditEvent(**rows[4]._asdict())
        event.outcome = Outcome(rows[4].outcome)
        session.execute(
            update(EVENTS)
            .where(EVENTS.c.id == rows[4].id)
            .values(hash=chain.digest(rows[3].hash, event, None))
        )

    outcome = cli(app, "verify")

    assert outcome.exit_code == 1
    assert "BROKEN at event #5" in outcome.output


def test_a_cutover_moved_to_the_head_is_caught_by_the_anchor(app, trail, tmp_path):
    """The attack the cut-over allows: move it up and re-hash everything unkeyed."""
    set_cutover(app, 4)
    anchors = tmp_path / "anchors.jsonl"
    write_anchor(app, anchors)
    set_cutover(app, 8)

    assert "8 of them from before the key" in cli(app, "verify").output
    outcome = cli(app, "verify", "--anchor", str(anchors))

    assert outcome.exit_code == 1
    assert "keyed after event #4 when anchored" in outcome.output


# --- the worker publishes anchors ----------------------------------------------------------------


def test_the_worker_logs_a_signed_head_once_per_period(app, trail, caplog, monkeypatch):
    from telehealth.worker import checks

    claimed: set[tuple[str, int]] = set()

    def claim_once(name: str, slot: int) -> bool:
        fresh = (name, slot) not in claimed
        claimed.add((name, slot))
        return fresh

    monkeypatch.setattr(checks, "claim_slot", claim_once)
    caplog.set_level(logging.INFO, logger="telehealth.worker.checks")
    with app.app_context():
        for _ in range(3):
            with db.begin() as session:
                checks.anchor_audit_chain(session)

    anchors = [r for r in caplog.records if r.getMessage() == "audit anchor"]
    assert len(anchors) == 1
    head = anchors[0].audit_anchor
    assert head["sequence"] == 8
    assert chain.check_anchor(head, key=app.config["AUDIT_KEY"]) == head
    assert [slot for name, slot in claimed] == [
        int(datetime.now(UTC).timestamp() // (60 * app.config["AUDIT_ANCHOR_MINUTES"]))
    ]


def test_verify_reads_the_last_anchor_of_a_worker_log(app, client, trail, tmp_path):
    with app.app_context():
        old = chain.anchor(db.session, key=app.config["AUDIT_KEY"])
    client.get(patient_url(trail.patient.id), headers=trail.patient.headers)
    with app.app_context():
        new = chain.anchor(db.session, key=app.config["AUDIT_KEY"])
    log = tmp_path / "worker.log"
    lines = [
        {"message": "audit anchor", "audit_anchor": old},
        {"message": "request", "status": 200},
        {"message": "audit anchor", "audit_anchor": new},
        {"message": "periodic check done"},
    ]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))

    outcome = cli(app, "verify", "--anchor", str(log))

    assert outcome.exit_code == 0, outcome.output
    assert "anchored head #9 present" in outcome.output


# --- the key's settings ---------------------------------------------------------------------


def test_development_makes_its_key_once_and_reuses_it(tmp_path):
    path = tmp_path / "instance" / "audit.key"
    first = _development_secret(path)

    assert len(first) >= 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert _development_secret(path) == first


@pytest.mark.parametrize("key", [None, "", "too-short-a-key"])
def test_production_requires_a_long_audit_key(key):
    settings = {
        "SECRET_KEY": "s" * 40,
        "JWT_SECRET_KEY": "j" * 40,
        "DATABASE_URL": "postgresql+psycopg://db/telehealth",
        "SMTP_URL": "smtp://mail.clinic.example:25",
        "MAIL_FROM": "Telehealth <no-reply@clinic.example>",
    }
    with pytest.raises(RuntimeError, match="AUDIT_KEY"):
        load_config("production", **settings, AUDIT_KEY=key)
    assert load_config("production", **settings, AUDIT_KEY="k" * 32).AUDIT_KEY == "k" * 32


def test_the_key_is_not_in_the_database(app, trail):
    key = app.config["AUDIT_KEY"]
    with app.app_context():
        session = db.session
        if dialect(session) == "postgresql":
            dumped = session.scalar(
                text("SELECT string_agg(to_jsonb(e)::text, '') FROM audit_events e")
            )
        else:
            dumped = "".join(
                str(row) for row in session.execute(text("SELECT * FROM audit_events")).all()
            )
    assert key not in (dumped or "")
    assert timedelta(minutes=app.config["AUDIT_ANCHOR_MINUTES"]) == timedelta(hours=1)
