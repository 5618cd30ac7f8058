"""Prints the authorization matrix's figures at the end of the run, with or without -s."""

from __future__ import annotations

from typing import Any

from tests.authz.authz_policy import SUMMARY


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SUMMARY:
        terminalreporter.section("authorization matrix")
        for line in SUMMARY:
            terminalreporter.write_line(line)
