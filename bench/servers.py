"""gunicorn processes for the benchmark: start with the production config, wait, stop."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid


def start_gunicorn(
    name: str, app: str, port: int, env: dict[str, str], *, workers: int, threads: int, log: Path
) -> Server:
    """`gunicorn -c config/gunicorn.conf.py <app>`, sized by GUNICORN_WORKERS/THREADS.

    Without the control socket: every gunicorn would otherwise claim the same
    ~/.gunicorn/gunicorn.ctl, and it plays no part in serving requests."""
    environment = {
        **os.environ,
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_THREADS": str(threads),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(GUNICORN_CONF),
        "--no-control-socket",
        app,
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    return Server(name=name, process=process, port=port, log=log)


#: "psycopg.errors.UndefinedColumn: column ...", "KeyError: 'x'": a traceback's exception line.
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*: \S")


def last_error(log: Path) -> str:
    """The exception of the last ERROR line the app logged (JSON lines, `exc_info`), read
    without the traceback, and the log's path; empty when it logged none."""
    last = ""
    with log.open(errors="replace") as lines:
        for line in lines:
            if '"level": "ERROR"' not in line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            trace = str(record.get("exc_info") or record.get("message", "")).splitlines()
            named = [text for text in trace if _EXCEPTION.match(text)]
            last = named[0] if named else str(record.get("message", ""))
    return f"{last[:300]} (see {log})" if last else ""


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http URL
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def wait_ready(server: Server, path: str, timeout: float = 60) -> None:
    """Until `path` answers 200; the server's log tail if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        if _answers(server.base_url + path):
            return
        time.sleep(0.2)
    tail = server.log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"{server.name} did not answer {path} on port {server.port}:\n{tail}")


def worker_pids(master: int) -> list[int]:
    """The master's children (the workers), from /proc."""
    children = Path(f"/proc/{master}/task/{master}/children")
    try:
        return [int(pid) for pid in children.read_text().split()]
    except OSError:
        return _children_by_scan(master)


def _children_by_scan(master: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(stat.parent.name))
    return pids


def wait_workers(server: Server, count: int, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = worker_pids(server.pid)
        if len(pids) >= count:
            return pids
        time.sleep(0.1)
    raise RuntimeError(f"{server.name}: {count} workers did not start")


def stop(server: Server, timeout: float = 20) -> None:
    """SIGTERM (graceful), then SIGKILL if the master outlives `timeout`."""
    if server.process.poll() is not None:
        return
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
