"""CPU time per request, by process group: where the machine's cores went during a wrk run.

The bench's ratios say how fast; this says what each request cost each party: the app's
gunicorn master and workers, PostgreSQL (every `postgres` process: the app's backends, and
the background writers that its writes keep busy), read from `/proc/<pid>/stat` (user +
system time, in clock ticks), and wrk, a child of this process that has exited by the time
it is read (`getrusage(RUSAGE_CHILDREN)`). Taken before and after each run and divided by
the run's requests. A process that exits during the run takes its time with it (a recycled
worker): that group's figure then reads low for that round.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
POSTGRES, WRK = "postgres", "wrk"
#: Groups below this many ms per request are idle noise, not shown.
SHOWN_FROM_MS = 0.02


def _process(pid: str) -> tuple[str, int, float] | None:
    """(command name, parent pid, CPU seconds so far), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    # After the name: state, ppid, ... utime and stime are the 12th and 13th of these.
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def snapshot(apps: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far per group: each app (its gunicorn master pid and the master's
    children), PostgreSQL and wrk."""
    masters = {pid: name for name, pid in apps.items()}
    used = dict.fromkeys([*apps, POSTGRES, WRK], 0.0)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        process = _process(pid)
        if process is None:
            continue
        name, parent, seconds = process
        group = masters.get(int(pid)) or masters.get(parent)
        if group is None and name == POSTGRES:
            group = POSTGRES
        if group is not None:
            used[group] += seconds
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    used[WRK] = children.ru_utime + children.ru_stime
    return used


def per_request(
    before: dict[str, float], after: dict[str, float], requests: int
) -> dict[str, float]:
    """Milliseconds of CPU per request, per group, for the groups that used any."""
    if not requests:
        return {}
    spent = {group: (after[group] - before[group]) * 1000 / requests for group in after}
    return {group: round(ms, 3) for group, ms in spent.items() if ms >= SHOWN_FROM_MS}
