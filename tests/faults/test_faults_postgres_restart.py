"""CI for the fault run: PostgreSQL restarts under a live gunicorn while a retrying client
submits check-ins, and not one acknowledged check-in is lost or stored twice.

Runs `python -m tests.faults.fault_run` (see its docstring) as a separate process, bounded in
time, and checks the JSON line it prints. PostgreSQL only; it restarts the server, so it takes
a few seconds from anything else using it. PostgreSQL is started again whatever happens.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.instances.live_server import ROOT, SKIP_REASON, ensure_postgres_running, on_postgresql

#: Under pytest-xdist the other workers' tests would fail while PostgreSQL is down.
PARALLEL = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not on_postgresql(), reason=SKIP_REASON),
    pytest.mark.skipif(
        PARALLEL,
        reason="restarts PostgreSQL, which would fail the tests running beside it: run it "
        "without -n (CI runs the suite serially)",
    ),
]

#: Seconds of traffic (PostgreSQL is down for DOWN of them); the whole run takes about
#: 20-40 s, most of it starting gunicorn and migrating.
TRAFFIC, WARMUP, DOWN = 12, 4, 3
MAX_RECOVERY_SECONDS = 30
#: The run is killed after this long (it cleans up on SIGTERM; SIGKILL a minute later).
RUN_TIMEOUT = 240


def run_fault_script(log_dir: Path) -> tuple[dict[str, Any], str]:
    command = [
        sys.executable,
        "-m",
        "tests.faults.fault_run",
        f"--traffic={TRAFFIC}",
        f"--warmup={WARMUP}",
        f"--down={DOWN}",
        f"--max-recovery-seconds={MAX_RECOVERY_SECONDS}",
        f"--logs={log_dir}",
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # the script unwinds: PostgreSQL up, gunicorn gone
        try:
            stdout, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        pytest.fail(f"the fault run took over {RUN_TIMEOUT} s:\n{stdout}\n{stderr}")
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    assert lines, f"no report from the fault run (exit {process.returncode}):\n{stdout}\n{stderr}"
    return json.loads(lines[-1]), stderr


def test_faults_postgres_restart_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    try:
        report, stderr = run_fault_script(tmp_path)
    finally:
        ensure_postgres_running()
    print("fault run:", json.dumps(report))
    context = f"{json.dumps(report, indent=1)}\n{stderr}"

    assert report["sent"] > 0 and report["acknowledged"] > 0, context
    # Every acknowledged check-in is stored exactly once, and nothing else is.
    assert report["duplicates"] == 0, context
    assert report["missing"] == 0, context
    assert report["stored"] == report["acknowledged"], context
    assert report["checks"]["acknowledged_ids_match"], context
    # While the database was down the service said 503 problem+json, never 500.
    statuses = report["status_counts"]
    assert statuses.get("503", 0) > 0, context
    assert not [s for s in statuses if s.startswith("5") and s != "503"], context
    assert report["checks"]["503_problem_json_while_down"], context
    # Readiness went red, then green; the same gunicorn recovered by itself, quickly.
    assert report["readyz_counts"].get("503", 0) > 0, context
    assert report["checks"]["readiness_red_then_green"], context
    assert report["checks"]["same_gunicorn_throughout"], context
    assert report["seconds_to_recover"] is not None, context
    assert report["seconds_to_recover"] < MAX_RECOVERY_SECONDS, context
    # And the rest of the script's checks (no give-ups, no unhandled errors logged, ...).
    assert report["ok"], context
