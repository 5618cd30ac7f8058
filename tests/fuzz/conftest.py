"""Prints the fuzzing's figures at the end of the run, with or without -s."""

from __future__ import annotations

from typing import Any

from tests.fuzz.fuzz_figures import SENT


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not SENT:
        return
    failed = [
        report
        for report in terminalreporter.stats.get("failed", [])
        if "test_fuzz_" in report.nodeid
    ]
    terminalreporter.section("API fuzzing")
    terminalreporter.write_line(
        f"fuzz: {sum(SENT.values())} requests over {len(SENT)} operations, "
        f"{len(failed)} failed tests"
    )
