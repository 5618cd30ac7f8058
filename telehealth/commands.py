"""Command-line tasks: `flask --app wsgi create-admin`, `flask --app wsgi demo-data`,
`flask --app wsgi audit verify`, `flask --app wsgi audit anchor`,
`flask --app wsgi care-teams check`."""

from __future__ import annotations

import json
import os
from typing import IO

import click
from flask import current_app
from flask.cli import with_appcontext

from telehealth.accounts import service as accounts
from telehealth.audit import chain
from telehealth.db import utcnow
from telehealth.errors import ApiError
from telehealth.extensions import db
from telehealth.idempotency import purge_expired
from telehealth.patients.care_teams import patients_without_active_clinician
from telehealth.worker.cli import serve, worker


@click.command("create-admin")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", default="Administrator", show_default=True)
@with_appcontext
def create_admin(email: str, password: str, name: str) -> None:
    """Create an admin account without prompting."""
    try:
        with db.begin() as session:
            user = accounts.create_admin(session, email=email, name=name, password=password)
            click.echo(f"created admin {user.email} ({user.id})")
    except ApiError as error:
        raise click.ClickException(error.detail or "could not create the admin") from None


@click.command("demo-data")
@click.option("--seed", type=int, help="Seed of the day-to-day variation (default: a fixed one).")
@with_appcontext
def demo_data(seed: int | None) -> None:
    """Build a demo clinic worth exploring, once, and print how to sign in: clinicians with
    care teams, a dozen patients with eight weeks of check-ins, sessions and alerts, written
    through the services the API uses on a clock set back. Development only."""
    if "production" in (os.environ.get("TELEHEALTH_ENV"), current_app.config["ENV_NAME"]):
        raise click.ClickException("demo-data never runs in production (TELEHEALTH_ENV).")
    # Imported here: no other command, and no server or worker process, loads the demo or the
    # clock-travel library it uses.
    from telehealth import demo

    with db.begin() as session:
        if demo.exists(session):
            click.echo("The demo clinic is already there; nothing added.")
        else:
            planned = demo.steps(utcnow().date(), demo.SEED if seed is None else seed)
            builder = demo.Builder(session)
            try:
                with click.progressbar(planned, label="Building the demo clinic") as bar:
                    builder.run(bar)
            except ApiError as error:
                raise click.ClickException(f"the demo broke a rule: {error.detail}") from None
    click.echo(demo.logins())


@click.command("purge-idempotency-keys")
@with_appcontext
def purge_idempotency_keys() -> None:
    """Delete Idempotency-Key records past IDEMPOTENCY_TTL_HOURS (run it daily from cron)."""
    with db.begin() as session:
        click.echo(f"deleted {purge_expired(session)} expired idempotency records")


@click.group("audit")
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.option(
    "--anchor",
    "anchor_file",
    type=click.File("r"),
    help="A file of anchors, lines printed by `audit anchor`, logged by the worker or received as "
    "`audit.anchor` webhook bodies (the last is used): prove that nothing at or before the "
    "event it recorded was removed or rewritten.",
)
@with_appcontext
def verify_audit_chain(anchor_file: IO[str] | None) -> None:
    """Check the audit hash chain; report the first broken link and exit 1 if there is one."""
    key = chain.current_key()
    anchor = None
    if anchor_file is not None:
        # The last anchor of the file: a line of `audit anchor`, or the worker's log line.
        lines = [line for line in anchor_file.read().splitlines() if '"mac"' in line]
        try:
            value = json.loads(lines[-1]) if lines else None
            if isinstance(value, dict) and "audit_anchor" in value:
                value = value["audit_anchor"]
            elif isinstance(value, dict) and value.get("type") == "audit.anchor":
                value = value.get("data")  # the body of an `audit.anchor` webhook delivery
            anchor = chain.check_anchor(value, key=key)
        except (ValueError, chain.AnchorInvalid) as error:
            message = str(error) if isinstance(error, chain.AnchorInvalid) else "not JSON"
            click.echo(f"audit anchor REFUSED: {message}", err=True)
            raise SystemExit(1) from None
    with db.begin() as session:
        result = chain.verify(session, key=key, anchor=anchor)
        unkeyed = chain.unkeyed_through(session)
    if result.broken is None:
        anchored = f", anchored head #{anchor['sequence']} present" if anchor else ""
        before_key = f" ({unkeyed} of them from before the key, plain SHA-256)" if unkeyed else ""
        click.echo(f"audit chain intact: {result.checked} events verified{before_key}{anchored}")
        return
    broken = result.broken
    place = f"event #{broken.sequence}" if broken.sequence is not None else "an unlinked event"
    click.echo(
        f"audit chain BROKEN at {place} ({broken.event_id}): {broken.reason}; "
        f"{result.checked} events before it verified",
        err=True,
    )
    raise SystemExit(1)


@audit.command("anchor")
@with_appcontext
def anchor_audit_chain() -> None:
    """Print the signed head of the audit chain as one JSON line. Keep it outside the database
    (append it to a file elsewhere): `audit verify --anchor FILE` then proves that nothing at or
    before that event was removed or rewritten."""
    with db.begin() as session:
        head = chain.anchor(session, key=chain.current_key())
    click.echo(json.dumps(head, sort_keys=True, separators=(",", ":")))


@click.group("care-teams")
def care_teams() -> None:
    """Care teams."""


@care_teams.command("check")
@with_appcontext
def check_care_teams() -> None:
    """List the patients without an active clinician on their care team, by id (one a line),
    and exit 1 if there are any: the service never allows it, so each needs a clinician."""
    with db.begin() as session:
        unwatched = patients_without_active_clinician(session)
    if not unwatched:
        click.echo("every patient has an active clinician on their care team")
        return
    click.echo(
        f"{len(unwatched)} patient(s) without an active clinician on their care team:", err=True
    )
    for patient_id in unwatched:
        click.echo(str(patient_id))
    raise SystemExit(1)


commands = [create_admin, demo_data, purge_idempotency_keys, audit, care_teams, worker, serve]
