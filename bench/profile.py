"""CPU per request, in process: where the load benchmark says how fast, this says why.

`python -m bench.profile [--scale 1m] [--requests 200] [--batches 5] [--profile] [target ...]`
runs the service's main requests through Flask's test client against a seeded bench database
(run `bench/run` or `python -m bench.seed` first) and prints, per target, the SQL statements
one request sends, its wall and CPU time per request and PostgreSQL's CPU per request (every
`postgres` process, as `bench.cpu` counts it; each the least of the batches), and with
`--profile` the cProfile of the run. The reference app's insert and page (`ref_insert`,
`ref_page`) run the same way, on the same database, as the yardstick; three variants of the
check-in POST (`checkins_post_plain`: no answers and no Idempotency-Key; `_scored`: answers;
`_keyed`: a key) show what scoring and the key each add. No server, no load tool, no other
process: the figures move only with the code. The check-in POST adds rows to the database,
so a later `bench/run` reseeds it.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine, event

from bench import cpu, reference_app
from bench.seed import AUDIT_KEY, seed

Request = Callable[[], Any]


def _targets(
    client: FlaskClient, tokens: dict[str, str], manifest: dict[str, Any]
) -> dict[str, Request]:
    clinician = {"Authorization": f"Bearer {tokens['clinician']}"}
    patient = {"Authorization": f"Bearer {tokens['patient']}"}
    busy = manifest["busy_patient_id"]

    def checkin(*, keyed: bool = True, scored: bool = True) -> Any:
        """The bench's check-in (PHQ-9 answers, an Idempotency-Key), or one without either:
        the difference is what scoring and the key cost."""
        body: dict[str, Any] = {
            "recorded_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "mood": 5,
        }
        if scored:
            body["instruments"] = {"PHQ-9": [1, 1, 1, 1, 0, 1, 0, 1, 0]}
        key = {"Idempotency-Key": f"profile-{uuid.uuid4()}"} if keyed else {}
        return client.post("/api/v1/checkins", json=body, headers={**patient, **key})

    return {
        "me": lambda: client.get("/api/v1/me", headers=clinician),
        "checkins_post": checkin,
        "checkins_post_plain": lambda: checkin(keyed=False, scored=False),
        "checkins_post_scored": lambda: checkin(keyed=False),
        "checkins_post_keyed": lambda: checkin(scored=False),
        "checkins_list": lambda: client.get(
            f"/api/v1/patients/{busy}/checkins?limit=50", headers=clinician
        ),
        "outcomes": lambda: client.get(f"/api/v1/patients/{busy}/outcomes", headers=clinician),
        "sessions_list": lambda: client.get("/api/v1/sessions?limit=50", headers=clinician),
        "alerts_list": lambda: client.get("/api/v1/alerts?limit=50", headers=clinician),
    }


#: The reference app's targets: set up (its table refilled) only when one of them is asked for.
REFERENCE_TARGETS = ("ref_insert", "ref_page")


def _reference_targets(database_url: str, rows: int) -> dict[str, Request]:
    """The reference app's insert and page (bench/reference_app.py) on the same database, in
    process like the service's targets: the yardstick for the figures above."""
    reference_app.prepare(database_url, rows)
    secret = uuid.uuid4().hex * 2
    app = reference_app.create_app(database_url, secret)
    token = reference_app.mint_token(app, reference_app.BUSY_OWNER, timedelta(hours=2))
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    return {
        "ref_insert": lambda: client.post("/items", json={"mood": 5}, headers=headers),
        "ref_page": lambda: client.get("/items?limit=50", headers=headers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*")
    parser.add_argument("--scale", default="1m", choices=["10k", "1m"])
    parser.add_argument("--requests", type=int, default=200, help="per batch")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top lines")
    options = parser.parse_args()

    manifest = seed(options.scale)
    os.environ["DATABASE_URL"] = manifest["database_url"]
    from config import load_config
    from telehealth import create_app
    from telehealth.accounts.models import User
    from telehealth.auth.tokens import issue_tokens
    from telehealth.extensions import db

    secret = uuid.uuid4().hex * 2
    app = create_app(
        load_config(
            "production",
            DATABASE_URL=manifest["database_url"],
            SECRET_KEY=secret,
            JWT_SECRET_KEY=secret,
            AUDIT_KEY=AUDIT_KEY,
            JWT_ACCESS_TOKEN_EXPIRES=timedelta(hours=2),
            SMTP_URL="smtp://127.0.0.1:25",  # production requires email settings; none is sent
            MAIL_FROM="Telehealth <no-reply@bench.example>",
        )
    )
    with app.app_context(), db.begin() as session:
        tokens = {
            name: issue_tokens(session, session.get_one(User, uuid.UUID(user))).access_token
            for name, user in (
                ("clinician", manifest["busy_clinician_id"]),
                ("patient", manifest["patient_ids"][0]),
            )
        }
    targets = _targets(app.test_client(), tokens, manifest)
    names = options.targets or [*targets, *REFERENCE_TARGETS]
    if set(names) & set(REFERENCE_TARGETS):
        targets.update(_reference_targets(manifest["database_url"], int(manifest["checkins"])))
    statements: list[str] = []
    # On the Engine class: the service's engine and the reference app's alike.
    event.listen(
        Engine, "before_cursor_execute", lambda *args: statements.append(args[2].split()[0])
    )
    for name in names:
        request = targets[name]
        statements.clear()
        answer = request()
        assert answer.status_code < 300, (name, answer.status_code, answer.get_data()[:300])
        sent = len(statements)
        for _ in range(20):  # warm the statement caches and the pool
            request()
        walls, cpus, databases = [], [], []
        for _ in range(options.batches):
            database = cpu.snapshot({})[cpu.POSTGRES]
            wall, used = time.perf_counter(), time.process_time()
            for _ in range(options.requests):
                request()
            walls.append((time.perf_counter() - wall) / options.requests * 1000)
            cpus.append((time.process_time() - used) / options.requests * 1000)
            database = cpu.snapshot({})[cpu.POSTGRES] - database
            databases.append(database / options.requests * 1000)
        # The least of the batches: what the code costs, with the least of the machine's noise.
        print(
            f"{name:<20} {sent} statements  {min(walls):6.2f} ms wall  "
            f"{min(cpus):6.2f} ms CPU  {min(databases):5.2f} ms PostgreSQL per request "
            f"(least of {options.batches} x {options.requests})"
        )
        if options.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(options.requests):
                request()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
