"""wrk: the Lua scripts the targets send, one run, and its output read back into numbers."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

WRK = "wrk"

# A check-in as a phone sends it: recorded a little in the past (never in the future), PHQ-9
# answers (item 9, self-harm, left at 0 so the run does not flood the alert queue), and a new
# Idempotency-Key per request: the run's nonce, wrk's thread, a counter and a random part.
CHECKIN_SCRIPT = """
tokens = %(tokens)s
thread_id = 0
local counter, nonce, threads = 0, "run", 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  nonce = args[1] or tostring(os.time())
  math.randomseed(os.time() * 1000 + thread_id)
end

function request()
  counter = counter + 1
  local answers = {}
  for i = 1, 8 do answers[i] = math.random(0, 3) end
  answers[9] = 0
  local recorded_at = os.date("!%%Y-%%m-%%dT%%H:%%M:%%SZ", os.time() - math.random(60, 3600))
  local body = string.format(
    '{"recorded_at":"%%s","mood":%%d,"anxiety":%%d,"sleep_hours":%%.1f,'
      .. '"instruments":{"PHQ-9":[%%s]}}',
    recorded_at, math.random(0, 10), math.random(0, 10), math.random(40, 90) / 10,
    table.concat(answers, ","))
  local key = string.format("bench-%%s-%%d-%%d-%%08x", nonce, thread_id, counter,
    math.random(0, 0x7fffffff))
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(counter %% #tokens) + 1],
    ["Idempotency-Key"] = key,
  }, body)
end
"""

# The reference insert: the same rotation over callers, a small body, no key.
ITEM_SCRIPT = """
tokens = %(tokens)s
local counter = 0

function init(args)
  math.randomseed(os.time())
end

function request()
  counter = counter + 1
  local body = string.format('{"mood":%%d,"note":"bench"}', math.random(0, 10))
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(counter %% #tokens) + 1],
  }, body)
end
"""

# A GET with one caller's token; wrk builds the request once and resends it.
GET_SCRIPT = """
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer %(token)s"
"""

NO_AUTH_SCRIPT = 'wrk.method = "GET"\n'


def lua_strings(values: list[str]) -> str:
    """A Lua array of strings (JSON string syntax is valid Lua for these ASCII tokens)."""
    return "{" + ", ".join(json.dumps(value) for value in values) + "}"


def write_script(directory: Path, name: str, template: str, **values: Any) -> Path:
    path = directory / f"{name}.lua"
    path.write_text(template % values)
    return path


@dataclass
class Sample:
    """One wrk run of one target."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: dict[str, int] = field(default_factory=dict)
    #: CPU milliseconds per request by process group (bench.cpu), filled in by the run.
    cpu_ms: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(self.socket_errors.values())

    @property
    def failed(self) -> int:
        """Requests that got no answer in time (timeouts, refused connections): unlike a
        keep-alive connection the server closed (read/write errors), these are missing from
        the latency figures, so the percentiles flatter the endpoint."""
        return self.socket_errors.get("timeout", 0) + self.socket_errors.get("connect", 0)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(value: str) -> float:
    """wrk's latency ("850.00us", "1.20ms", "2.01s") in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value.strip())
    if match is None:
        raise ValueError(f"not a wrk latency: {value!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def _search(pattern: str, output: str) -> re.Match[str] | None:
    return re.search(pattern, output, re.MULTILINE)


def parse(output: str) -> Sample:
    """Read requests/sec, the 50% and 99% latency lines, non-2xx and socket errors."""
    rps = _search(r"^Requests/sec:\s+([\d.]+)", output)
    p50 = _search(r"^\s+50%\s+(\S+)", output)
    p99 = _search(r"^\s+99%\s+(\S+)", output)
    total = _search(r"^\s+(\d+) requests in", output)
    if rps is None or total is None:
        raise ValueError(f"unexpected wrk output:\n{output}")
    non_2xx = _search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = _search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    names = ("connect", "read", "write", "timeout")
    return Sample(
        rps=float(rps.group(1)),
        # No latency lines when not one request completed.
        p50_ms=to_ms(p50.group(1)) if p50 else float("nan"),
        p99_ms=to_ms(p99.group(1)) if p99 else float("nan"),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=dict(zip(names, map(int, socket.groups()), strict=True)) if socket else {},
    )


def run(url: str, script: Path, *, duration: int, connections: int, args: list[str]) -> Sample:
    """`wrk -t1 -c<connections> -d<duration>s --latency -s script url -- args`."""
    command = [
        WRK,
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "-s",
        str(script),
        url,
        "--",
        *args,
    ]
    finished = subprocess.run(  # noqa: S603 - a fixed program with arguments built here
        command, capture_output=True, text=True, check=False, timeout=duration + 60
    )
    if finished.returncode != 0:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr.strip()}")
    return parse(finished.stdout)
