"""The benchmark, end to end: `python -m bench.run [--scales 10k,1m] [--rounds 5]
[--duration 10] [--connections 16]` (or `bench/run ...`, which also starts what it needs).

Per scale: seed PostgreSQL, start the service under gunicorn with the production settings and
the reference app beside it (same gunicorn config). Every scale's servers run at once, and
round after round every target of every scale runs once with wrk, in an order shuffled afresh
each round (fixed seed), so drift of the machine hits every target and both scales alike: the
flatness ratios compare 10k and 1M measured side by side, not in two halves of the run that
the machine may run at different speeds. Then, per scale, one single-worker service measures
memory growth during an export. It prints a table per scale, the flatness between scales and
the budgets, and saves JSON in bench/out/. Exit status 1 when a budget fails.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import secrets
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, select, table, text

from bench import cpu, memory, reference_app, servers, tokens, wrk
from bench.report import (
    Budget,
    ScaleResult,
    TargetResult,
    budget_table,
    flatness,
    problems_banner,
    scale_budgets,
    scale_table,
)
from bench.seed import AUDIT_KEY
from bench.targets import REFERENCE, SERVICE, Target, probe, reference_targets, service_targets

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


@dataclass
class Options:
    scales: list[str]
    rounds: int
    duration: int
    connections: int
    warmup: int
    workers: int
    threads: int
    port: int
    redis_url: str
    shuffle_seed: int
    reseed: bool


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Load benchmark of the service against a minimal reference app "
        "(bench/README.md).",
    )
    parser.add_argument("--scales", default="10k,1m", help="comma-separated: 10k, 1m")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=2, help="seconds per target, unrecorded")
    parser.add_argument("--workers", type=int, default=2, help="GUNICORN_WORKERS")
    parser.add_argument("--threads", type=int, default=4, help="GUNICORN_THREADS")
    parser.add_argument(
        "--port",
        type=int,
        default=18080,
        help="first scale's service; +1 reference, +2 export; each further scale +10",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--shuffle-seed", type=int, default=1)
    parser.add_argument(
        "--reseed", action="store_true", help="seed afresh even when the database is untouched"
    )
    args = parser.parse_args(argv)
    scales = [scale.strip() for scale in args.scales.split(",") if scale.strip()]
    return Options(**{**vars(args), "scales": scales})


def say(message: str) -> None:
    print(message, flush=True)


def service_settings(manifest: dict[str, Any], options: Options, secret: str) -> dict[str, str]:
    """What production needs besides TELEHEALTH_ENV (config/__init__.py, ProductionConfig);
    the same names serve as environment for gunicorn and as overrides for `load_config`."""
    return {
        "SECRET_KEY": secret,
        "JWT_SECRET_KEY": secret,
        "AUDIT_KEY": AUDIT_KEY,
        "DATABASE_URL": manifest["database_url"],
        "REDIS_URL": options.redis_url,
        # Production requires email settings (invitations); the benchmark sends none.
        "SMTP_URL": "smtp://127.0.0.1:25",
        "MAIL_FROM": "Telehealth <no-reply@bench.example>",
    }


def token_lifetime(options: Options, targets: int = 10) -> timedelta:
    """Long enough for the whole run's load (every scale's targets), with room to spare."""
    load = (options.rounds + 1) * targets * len(options.scales)
    return timedelta(seconds=load * (options.duration + options.warmup + 2) + 3600)


# -- the scales, side by side ------------------------------------------------------------------


@dataclass
class Running:
    service: servers.Server
    reference: servers.Server

    @property
    def apps(self) -> dict[str, int]:
        """The gunicorn masters, by the CPU group they count under."""
        return {SERVICE: self.service.pid, REFERENCE: self.reference.pid}


@dataclass
class Scale:
    """One scale's database, targets and servers, from seeding to the end of its load."""

    name: str
    manifest: dict[str, Any]
    #: The service's environment (production settings, this scale's database).
    env: dict[str, str]
    reference_secret: str
    #: The busy clinician's token (the export is read with it).
    clinician_token: str
    targets: list[Target]
    logs: Path
    #: Its service's port; the reference app's is the next one, the export service's the one
    #: after.
    port: int
    running: Running | None = None

    @property
    def started(self) -> Running:
        assert self.running is not None, f"{self.name}: servers not started"
        return self.running


def prepare_scale(name: str, index: int, options: Options) -> Scale:
    """Seed (or reuse) the scale's database, fill the reference table, mint the tokens and
    write the wrk scripts."""
    manifest = seeded(name, options)
    say("   reference table")
    reference_app.prepare(manifest["database_url"], int(manifest["checkins"]))
    settings = service_settings(manifest, options, secrets.token_urlsafe(48))
    reference_secret = secrets.token_urlsafe(48)
    logs = OUT / "logs" / name
    scripts = logs / "scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    lifetime = token_lifetime(options)
    minted = tokens.service_tokens(settings, manifest, lifetime)
    reference = tokens.reference_tokens(reference_secret, manifest["database_url"], lifetime)
    return Scale(
        name=name,
        manifest=manifest,
        env={**settings, "TELEHEALTH_ENV": "production"},
        reference_secret=reference_secret,
        clinician_token=minted.clinician,
        targets=service_targets(manifest, minted, scripts) + reference_targets(reference, scripts),
        logs=logs,
        port=options.port + 10 * index,
    )


def start(scale: Scale, options: Options) -> Running:
    reference_env = {
        "REFERENCE_DATABASE_URL": scale.manifest["database_url"],
        "REFERENCE_JWT_SECRET": scale.reference_secret,
        # The yardstick is not recycled: at its request rates max_requests would restart a
        # worker every few minutes, and each restart is a burst of closed connections and a
        # worker importing its code mid-measurement. The service keeps production's setting.
        "GUNICORN_MAX_REQUESTS": "0",
    }
    sizes = {"workers": options.workers, "threads": options.threads}
    say(f"   {scale.name}: gunicorn service :{scale.port}, reference :{scale.port + 1}")
    running = Running(
        service=servers.start_gunicorn(
            f"service {scale.name}",
            "wsgi:app",
            scale.port,
            scale.env,
            log=scale.logs / "service.log",
            **sizes,
        ),
        reference=servers.start_gunicorn(
            f"reference {scale.name}",
            "bench.reference_app:create_app()",
            scale.port + 1,
            reference_env,
            log=scale.logs / "reference.log",
            **sizes,
        ),
    )
    try:
        servers.wait_ready(running.service, "/readyz")
        servers.wait_ready(running.reference, "/bare")
        servers.wait_workers(running.service, options.workers)
        servers.wait_workers(running.reference, options.workers)
    except RuntimeError:
        stop(running)
        raise
    return running


def stop(running: Running) -> None:
    servers.stop(running.service)
    servers.stop(running.reference)


def base_url(running: Running, target: Target) -> str:
    server = running.reference if target.app == REFERENCE else running.service
    return server.base_url


def smoke(running: Running, targets: list[Target]) -> dict[str, str]:
    """One request per target before the load: an error here would be measured otherwise."""
    problems = {}
    for target in targets:
        status, body = probe(base_url(running, target), target)
        if not 200 <= status < 300:
            problems[target.name] = f"probe answered {status}: {body.strip()[:300]}"
            say(
                f"!!! {target.name}: {target.method} {target.label} answered {status}: {body[:300]}"
            )
    return problems


def load(
    running: Running, target: Target, seconds: int, connections: int, nonce: str
) -> wrk.Sample:
    return wrk.run(
        base_url(running, target) + target.path,
        target.script,
        duration=seconds,
        connections=connections,
        args=[nonce],
    )


Results = dict[str, dict[str, TargetResult]]


def rounds(scales: list[Scale], options: Options) -> Results:
    """Every target of every scale once per round, in an order shuffled afresh each round
    (fixed seed): results by scale, then by target."""
    results = {s.name: {t.name: TargetResult(t) for t in s.targets} for s in scales}
    runs = [(scale, target) for scale in scales for target in scale.targets]
    order = random.Random(options.shuffle_seed)  # noqa: S311 - an order, not a secret
    for number in range(1, options.rounds + 1):
        say(f"-- round {number}/{options.rounds}")
        for scale, target in order.sample(runs, len(runs)):
            running = scale.started
            before = cpu.snapshot(running.apps)
            sample = load(
                running, target, options.duration, options.connections, secrets.token_hex(4)
            )
            sample.cpu_ms = cpu.per_request(before, cpu.snapshot(running.apps), sample.requests)
            results[scale.name][target.name].samples.append(sample)
            flag = "  !!! ERRORS" if sample.non_2xx or sample.failed else ""
            say(
                f"   {scale.name:<4} {target.name:<14} {sample.rps:9.1f} req/s  "
                f"p50 {sample.p50_ms:7.2f} ms  p99 {sample.p99_ms:7.2f} ms  "
                f"non-2xx {sample.non_2xx}  socket errors {sample.errors}{flag}"
            )
    return results


def explain_errors(
    running: Running, results: dict[str, TargetResult], problems: dict[str, str]
) -> None:
    """For a target that answered errors (or timed out) under load, what one request of it
    answers now."""
    for name, result in results.items():
        if (result.non_2xx or result.failed) and name not in problems:
            status, body = probe(base_url(running, result.target), result.target)
            problems[name] = (
                f"{result.non_2xx} non-2xx and {result.failed} timeouts/refused under load; "
                f"a probe now answers {status}: {body.strip()[:300]}"
            )


#: The export passes, in order, on one fresh worker: the first of each format is what the budget
#: judges (it includes one-time costs such as FHIR model classes imported on first use); the
#: repeat shows the steady state.
EXPORT_PASSES = (
    ("json", ""),
    ("fhir", "?format=fhir"),
    ("json again", ""),
    ("fhir again", "?format=fhir"),
)


def export_memory(scale: Scale) -> list[memory.ExportGrowth]:
    """A separate single-worker, single-thread service streams the export patient's record
    (1,100 check-ins) while the worker's RSS is sampled."""
    server = servers.start_gunicorn(
        f"export {scale.name}",
        "wsgi:app",
        scale.port + 2,
        scale.env,
        workers=1,
        threads=1,
        log=scale.logs / "export.log",
    )
    try:
        servers.wait_ready(server, "/readyz")
        [worker] = servers.wait_workers(server, 1)
        record = f"/api/v1/patients/{scale.manifest['export_patient_id']}/export"
        return [
            memory.export_growth(server.port, worker, label, record + query, scale.clinician_token)
            for label, query in EXPORT_PASSES
        ]
    finally:
        servers.stop(server)


def schema_is_current(manifest: dict[str, Any]) -> bool:
    """Whether the database is at the migrations' head: one seeded before a new migration
    would answer the service with errors."""
    heads = set(ScriptDirectory(str(ROOT / "migrations")).get_heads())
    engine = create_engine(manifest["database_url"])
    try:
        with engine.connect() as connection:
            versions = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()
    return versions == heads


def untouched(manifest: dict[str, Any]) -> bool:
    """Whether every table still holds the row count the seeder left (a run adds check-ins,
    alerts and audit events, so a database a run has used is never reused)."""
    engine = create_engine(manifest["database_url"])
    try:
        with engine.connect() as connection:
            return all(
                connection.scalar(select(func.count()).select_from(table(name))) == expected
                for name, expected in manifest.get("counts", {}).items()
            )
    finally:
        engine.dispose()


def seeded(scale: str, options: Options) -> dict[str, Any]:
    """The scale's database as the seeder made it, at the current schema: reused when it is
    untouched and current, else seeded again."""
    from bench.seed import seed

    say(f"== {scale}: seeding")
    started = time.perf_counter()
    manifest = seed(scale, force=options.reseed)
    if not schema_is_current(manifest):
        say("   the database predates a migration: seeding it afresh")
        manifest = seed(scale, force=True)
    elif not untouched(manifest):
        say("   an earlier run changed the database: seeding it afresh")
        manifest = seed(scale, force=True)
    say(f"   ready in {time.perf_counter() - started:.0f} s: {manifest['checkins']:,} check-ins")
    return manifest


@dataclass
class Measured:
    """One scale's load results, worker memory peaks and the problems seen."""

    results: dict[str, TargetResult]
    peaks: dict[str, list[memory.WorkerPeak]]
    problems: dict[str, str]


def measure(scales: list[Scale], options: Options) -> dict[str, Measured]:
    """Smoke and warm-up per scale, then the rounds over every scale at once, with every
    worker's RSS sampled throughout."""
    problems = {scale.name: smoke(scale.started, scale.targets) for scale in scales}
    if options.warmup:
        say(f"   warm-up: {options.warmup} s per target, not recorded")
        for scale in scales:
            for target in scale.targets:
                load(
                    scale.started, target, options.warmup, options.connections, secrets.token_hex(4)
                )
    samplers = {scale.name: memory.LoadSampler(scale.started.apps) for scale in scales}
    for sampler in samplers.values():
        sampler.start()
    try:
        results = rounds(scales, options)
    finally:
        peaks = {name: sampler.finish() for name, sampler in samplers.items()}
    for scale in scales:
        explain_errors(scale.started, results[scale.name], problems[scale.name])
    return {s.name: Measured(results[s.name], peaks[s.name], problems[s.name]) for s in scales}


def scale_result(
    scale: Scale, measured: Measured, exports: list[memory.ExportGrowth], options: Options
) -> ScaleResult:
    problems = measured.problems
    for export in exports:
        if export.status != 200:
            problems[f"export {export.label}"] = f"GET {export.path} answered {export.status}"
    logs = scale.logs
    return ScaleResult(
        scale=scale.name,
        checkins=int(scale.manifest["checkins"]),
        patients=int(scale.manifest["patients"]),
        results=measured.results,
        memory=measured.peaks,
        workers=options.workers,
        exports=exports,
        problems=problems,
        server_error=(
            servers.last_error(logs / "service.log") or servers.last_error(logs / "export.log")
            if problems
            else ""
        ),
    )


def run_scales(options: Options) -> list[ScaleResult]:
    """Seed every scale, start every scale's servers, load them side by side, then measure
    each scale's export on its own."""
    scales = [prepare_scale(name, index, options) for index, name in enumerate(options.scales)]
    try:
        for scale in scales:
            scale.running = start(scale, options)
        measured = measure(scales, options)
    finally:
        for scale in scales:
            if scale.running is not None:
                stop(scale.running)
    results = []
    for scale in scales:
        say(f"   {scale.name}: export memory, one worker, one thread")
        exports = export_memory(scale)
        results.append(scale_result(scale, measured[scale.name], exports, options))
    return results


# -- the whole run -----------------------------------------------------------------------------


def save(results: list[ScaleResult], budgets: list[Budget], options: Options) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    document = {
        "options": vars(options),
        "scales": [r.to_json() for r in results],
        "budgets": [vars(b) for b in budgets],
    }
    text = json.dumps(_finite(document), indent=2, allow_nan=False)
    path = OUT / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(text)
    (OUT / "latest.json").write_text(text)
    return path


def _finite(value: Any) -> Any:
    """JSON has no NaN: a measurement that did not happen is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if shutil.which(wrk.WRK) is None:
        say("wrk is not installed (bench/run installs it)")
        return 2
    results = run_scales(options)
    for result in results:
        say("")
        say(scale_table(result, options.rounds, options.duration, options.connections))
        if banner := problems_banner(result):
            say(banner)
        say("")
    budgets = [b for r in results for b in scale_budgets(r)]
    by_size = sorted(results, key=lambda r: r.checkins)
    if len(by_size) >= 2:
        table, flat = flatness(by_size[0], by_size[-1])
        say(table)
        say("")
        budgets.extend(flat)
    say(budget_table(budgets))
    for result in results:
        if banner := problems_banner(result):
            say(banner)
    say(f"\nsaved {save(results, budgets, options)}")
    failed = [b for b in budgets if b.passed is False]
    say(f"{len(failed)} budget(s) failed" if failed else "every budget passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
