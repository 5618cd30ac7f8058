"""bench.cpu: the benchmark's CPU-per-request split reads this machine's /proc correctly."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from bench import cpu

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")

#: A child that spends 0.3 s of CPU, then idles until it is killed.
BUSY_CHILD = (
    "import time\n"
    "end = time.process_time() + 0.3\n"
    "while time.process_time() < end:\n"
    "    pass\n"
    "time.sleep(30)\n"
)


def test_the_cpu_of_an_apps_children_counts_as_the_apps():
    before = cpu.snapshot({"app": os.getpid()})
    child = subprocess.Popen([sys.executable, "-c", BUSY_CHILD])
    try:
        deadline = time.monotonic() + 20
        while cpu.snapshot({"app": os.getpid()})["app"] - before["app"] < 0.25:
            assert time.monotonic() < deadline, "the child's CPU never showed as the app's"
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait()


def test_per_request_divides_what_each_group_spent():
    before = {"app": 1.0, "postgres": 2.0, "wrk": 0.5}
    after = {"app": 3.0, "postgres": 2.5, "wrk": 0.5}
    assert cpu.per_request(before, after, 1000) == {"app": 2.0, "postgres": 0.5}
    # Idle noise (a few clock ticks over thousands of requests) is left out.
    assert cpu.per_request(before, {**after, "wrk": 0.51}, 1000) == {"app": 2.0, "postgres": 0.5}
    assert cpu.per_request(before, after, 0) == {}
