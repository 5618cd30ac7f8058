"""Medians over rounds, ratios to the reference app, the tables, and the budgets."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from bench.memory import ExportGrowth, WorkerPeak
from bench.targets import BARE, PAGE, SERVICE, Target
from bench.wrk import Sample

#: Every service endpoint's p99 at most this many times the reference page's p99 in the same
#: run (so a slow machine moves both).
P99_BUDGET_X_REFERENCE = 3.0
FLATNESS_BUDGET = 1.25
EXPORT_GROWTH_BUDGET_MB = 50.0
#: Throughput floors, as a share of the matching reference endpoint.
RPS_BUDGETS = {"checkins_post": 0.5, "checkins_list": 0.6, "sessions_list": 0.6, "outcomes": 0.4}


@dataclass
class TargetResult:
    target: Target
    samples: list[Sample] = field(default_factory=list)

    def _median(self, values: list[float]) -> float:
        return statistics.median(values) if values else math.nan

    @property
    def rps(self) -> float:
        return self._median([s.rps for s in self.samples])

    @property
    def p50_ms(self) -> float:
        return self._median([s.p50_ms for s in self.samples])

    @property
    def p99_ms(self) -> float:
        return self._median([s.p99_ms for s in self.samples])

    @property
    def cpu_ms(self) -> dict[str, float]:
        """CPU milliseconds per request by process group, median of the rounds."""
        groups = sorted({group for s in self.samples for group in s.cpu_ms})
        return {g: self._median([s.cpu_ms.get(g, 0.0) for s in self.samples]) for g in groups}

    @property
    def non_2xx(self) -> int:
        return sum(s.non_2xx for s in self.samples)

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.samples)

    @property
    def failed(self) -> int:
        return sum(s.failed for s in self.samples)

    @property
    def valid(self) -> bool:
        """Figures of real answers: no error status, no request left out by a timeout."""
        return not self.non_2xx and not self.failed


def _measured(value: str, *results: TargetResult) -> str:
    return value if all(r.valid for r in results) else f"{value} (INVALID: measured errors)"


@dataclass
class ScaleResult:
    scale: str
    checkins: int
    patients: int
    results: dict[str, TargetResult]
    memory: dict[str, list[WorkerPeak]] = field(default_factory=dict)
    #: gunicorn workers per app: more pids than this in `memory` means workers were recycled.
    workers: int = 2
    exports: list[ExportGrowth] = field(default_factory=list)
    #: Targets that answered anything but 2xx, with what a probe request got back.
    problems: dict[str, str] = field(default_factory=dict)
    #: The last exception the service logged, and where its log is.
    server_error: str = ""

    def ratio(self, name: str, to: str) -> float:
        reference = self.results[to].rps
        return self.results[name].rps / reference if reference else math.nan

    def to_json(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "checkins": self.checkins,
            "patients": self.patients,
            "targets": {
                name: {
                    "app": r.target.app,
                    "method": r.target.method,
                    "path": r.target.label,
                    "rps": r.rps,
                    "p50_ms": r.p50_ms,
                    "p99_ms": r.p99_ms,
                    "non_2xx": r.non_2xx,
                    "socket_errors": r.errors,
                    "ratio_to_reference": (
                        self.ratio(name, r.target.compare_to) if r.target.compare_to else None
                    ),
                    "ratio_to_bare": self.ratio(name, BARE),
                    "cpu_ms_per_request": r.cpu_ms,
                    "rounds": [s.to_json() for s in r.samples],
                }
                for name, r in self.results.items()
            },
            "memory_peak_mb": {
                app: {str(w.pid): round(w.peak_mb, 1) for w in workers}
                for app, workers in self.memory.items()
            },
            "export": [e.to_json() for e in self.exports],
            "problems": self.problems,
            "server_error": self.server_error,
        }


@dataclass
class Budget:
    scale: str
    check: str
    value: str
    passed: bool | None  # None: reported, no threshold


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def scale_table(result: ScaleResult, rounds: int, duration: int, connections: int) -> str:
    head = (
        f"== scale {result.scale}: {result.checkins:,} check-ins, {result.patients:,} patients; "
        f"{rounds} round(s) x {duration} s per target, wrk -t1 -c{connections}; medians of rounds"
    )
    columns = (
        f"{'target':<14} {'app':<9} {'request':<55} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'x ref':>6} {'ref':<10} {'x bare':>6} {'non2xx':>7} {'timeout':>7} {'closed':>6}"
    )
    lines = [head, columns, "-" * len(columns)]
    for name, r in result.results.items():
        compare = r.target.compare_to
        ratio = _fmt(result.ratio(name, compare), 2) if compare else ""
        request = f"{r.target.method} {r.target.label}"
        lines.append(
            f"{name:<14} {r.target.app:<9} {request:<55} {_fmt(r.rps):>9} {_fmt(r.p50_ms, 2):>8} "
            f"{_fmt(r.p99_ms, 2):>8} {ratio:>6} {compare or '':<10} "
            f"{_fmt(result.ratio(name, BARE), 2):>6} {r.non_2xx:>7} {r.failed:>7} "
            f"{r.errors - r.failed:>6}"
        )
    lines.extend(_cpu_lines(result))
    lines.extend(_memory_lines(result))
    lines.extend(_export_lines(result))
    return "\n".join(lines)


def _cpu_lines(result: ScaleResult) -> list[str]:
    """Where each request's CPU went (bench.cpu): the app, PostgreSQL, wrk."""
    lines = ["", "CPU per request, ms (median of rounds; the app's workers, PostgreSQL, wrk):"]
    for name, r in result.results.items():
        spent = r.cpu_ms
        if spent:
            parts = "  ".join(f"{group} {ms:.2f}" for group, ms in spent.items())
            lines.append(f"  {name:<14} {parts}  = {sum(spent.values()):.2f}")
    return lines


def _memory_lines(result: ScaleResult) -> list[str]:
    lines = ["", "peak RSS per worker under load (VmHWM; a recycled worker shows as a new pid):"]
    for app, workers in result.memory.items():
        peaks = ", ".join(f"{w.pid}: {w.peak_mb:.1f} MB" for w in workers) or "none sampled"
        top = max((w.peak_mb for w in workers), default=math.nan)
        lines.append(f"  {app:<9} max {_fmt(top)} MB  ({len(workers)} worker(s): {peaks})")
    return lines


def _export_lines(result: ScaleResult) -> list[str]:
    lines = [
        "",
        "export of {export_patient} as the busy clinician, one worker x one thread, RSS sampled "
        "every 5 ms (growth = peak - before):",
    ]
    for e in result.exports:
        lines.append(
            f"  {e.label:<11} status {e.status}  {e.bytes / 1e6:6.2f} MB in {e.seconds:5.2f} s  "
            f"before {e.before_mb:6.1f} MB  peak {e.peak_mb:6.1f} MB  growth {e.growth_mb:+6.1f} MB"
        )
    return lines


def problems_banner(result: ScaleResult) -> str:
    if not result.problems:
        return ""
    bar = "!" * 100
    lines = [bar, f"!!! scale {result.scale}: these targets answered errors; their numbers measure"]
    lines.append("!!! error responses, not the endpoint:")
    for name, detail in result.problems.items():
        lines.append(f"!!!   {name}: {detail}")
    if result.server_error:
        lines.append(f"!!! last error the service logged: {result.server_error}")
    return "\n".join([*lines, bar])


def scale_budgets(result: ScaleResult) -> list[Budget]:
    budgets = []
    for name, floor in RPS_BUDGETS.items():
        if name not in result.results:
            continue
        measured = result.results[name]
        compare = measured.target.compare_to or PAGE
        ratio = result.ratio(name, compare)
        budgets.append(
            Budget(
                result.scale,
                f"{name} req/s >= {floor}x reference {compare.removeprefix('ref_')}",
                _measured(f"{_fmt(ratio, 2)}x", measured, result.results[compare]),
                measured.valid and not math.isnan(ratio) and ratio >= floor,
            )
        )
    budgets.extend(_p99_budgets(result))
    budgets.extend(_errors_budgets(result))
    for e in result.exports:
        if "again" in e.label:
            continue
        budgets.append(
            Budget(
                result.scale,
                f"export worker RSS growth < {EXPORT_GROWTH_BUDGET_MB:.0f} MB ({e.label})",
                f"{e.growth_mb:+.1f} MB (status {e.status})",
                e.status == 200 and e.growth_mb < EXPORT_GROWTH_BUDGET_MB,
            )
        )
    for app, workers in result.memory.items():
        top = max((w.peak_mb for w in workers), default=math.nan)
        budgets.append(Budget(result.scale, f"peak RSS per {app} worker", f"{_fmt(top)} MB", None))
    return budgets


def _service_results(result: ScaleResult) -> list[TargetResult]:
    return [r for r in result.results.values() if r.target.app == SERVICE]


def _p99_budgets(result: ScaleResult) -> list[Budget]:
    reference = result.results.get(PAGE)
    ceiling = P99_BUDGET_X_REFERENCE * reference.p99_ms if reference else math.nan
    return [
        Budget(
            result.scale,
            f"p99 <= {P99_BUDGET_X_REFERENCE:g}x reference page p99 "
            f"({_fmt(ceiling, 2)} ms): {r.target.name}",
            _measured(f"{_fmt(r.p99_ms, 2)} ms", r),
            r.valid and not math.isnan(r.p99_ms) and r.p99_ms <= ceiling,
        )
        for r in _service_results(result)
    ]


def _errors_budgets(result: ScaleResult) -> list[Budget]:
    """Non-2xx answers and timeouts fail: the figures would describe errors, or leave out the
    slowest requests. Connections the server closed (read/write errors, e.g. a worker recycled
    by max_requests) are reported with the recycles seen."""
    rows = result.results.values()
    non_2xx = [f"{r.target.name} {r.non_2xx}" for r in rows if r.non_2xx]
    failed = [f"{r.target.name} {r.failed}" for r in rows if r.failed]
    closed = [f"{r.target.name} {r.errors - r.failed}" for r in rows if r.errors - r.failed]
    recycled = {app: len(workers) - result.workers for app, workers in result.memory.items()}
    recycles = ", ".join(f"{app} {count}" for app, count in recycled.items())
    return [
        Budget(result.scale, "no non-2xx answers", ", ".join(non_2xx) or "none", not non_2xx),
        Budget(
            result.scale,
            "no timeouts or refused connections",
            ", ".join(failed) or "none",
            not failed,
        ),
        Budget(
            result.scale,
            "connections closed by the server (read/write errors)",
            f"{', '.join(closed) or 'none'}; worker recycles: {recycles}",
            None,
        ),
    ]


def flatness(small: ScaleResult, large: ScaleResult) -> tuple[str, list[Budget]]:
    """Each list endpoint's p50 at the large scale over its p50 at the small one."""
    head = f"== flatness: p50 at {large.scale} / p50 at {small.scale} (budget <= {FLATNESS_BUDGET})"
    columns = (
        f"{'target':<14} {f'p50 {small.scale}':>10} {f'p50 {large.scale}':>10} {'ratio':>7}  budget"
    )
    lines, budgets = [head, columns, "-" * len(columns)], []
    for name, r in large.results.items():
        if not r.target.is_list or name not in small.results:
            continue
        before, after = small.results[name].p50_ms, r.p50_ms
        ratio = after / before if before else math.nan
        valid = r.valid and small.results[name].valid
        passed = valid and not math.isnan(ratio) and ratio <= FLATNESS_BUDGET
        lines.append(
            f"{name:<14} {_fmt(before, 2):>10} {_fmt(after, 2):>10} {_fmt(ratio, 2):>7}  "
            f"{'PASS' if passed else 'FAIL'}{'' if valid else ' (INVALID: measured errors)'}"
        )
        budgets.append(
            Budget(
                f"{small.scale}->{large.scale}",
                f"{name} p50 {large.scale}/{small.scale} <= {FLATNESS_BUDGET}",
                _measured(f"{_fmt(ratio, 2)}x", r, small.results[name]),
                passed,
            )
        )
    return "\n".join(lines), budgets


def budget_table(budgets: list[Budget]) -> str:
    columns = f"{'scale':<9} {'result':<6} {'budget':<58} value"
    lines = ["== budgets", columns, "-" * len(columns)]
    for b in budgets:
        verdict = "report" if b.passed is None else ("PASS" if b.passed else "FAIL")
        lines.append(f"{b.scale:<9} {verdict:<6} {b.check:<58} {b.value}")
    return "\n".join(lines)
