"""bench.run: each round loads every target of every scale once, interleaved, so the machine's
drift hits both scales alike, and each result lands with its own scale and target."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench import run, wrk
from bench.targets import REFERENCE, SERVICE, Target


def _target(name: str, app: str = SERVICE) -> Target:
    return Target(name, app, "GET", f"/{name}", f"/{name}", Path("script.lua"))


def _scale(name: str, port: int) -> run.Scale:
    scale = run.Scale(
        name=name,
        manifest={},
        env={},
        reference_secret="",
        clinician_token="",
        targets=[_target("list"), _target("read"), _target("ref_page", REFERENCE)],
        logs=Path("logs"),
        port=port,
    )
    scale.running = run.Running(
        service=_server(f"service {name}", port), reference=_server(f"reference {name}", port + 1)
    )
    return scale


def _server(name: str, port: int) -> Any:
    process = SimpleNamespace(pid=port)  # stands in for the gunicorn master
    return run.servers.Server(name=name, process=process, port=port, log=Path("log"))


@pytest.fixture
def loaded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The (URL, target) of every wrk run, in order; each answers as many req/s as its port."""
    runs: list[tuple[str, str]] = []

    def fake_load(running: run.Running, target: Target, *_args: Any) -> wrk.Sample:
        url = run.base_url(running, target)
        runs.append((url, target.name))
        return wrk.Sample(
            rps=float(url.rsplit(":", 1)[1]), p50_ms=1, p99_ms=2, requests=10, non_2xx=0
        )

    monkeypatch.setattr(run, "load", fake_load)
    monkeypatch.setattr(run.cpu, "snapshot", lambda apps: dict.fromkeys([*apps, "postgres"], 0.0))
    monkeypatch.setattr(run, "say", lambda _message: None)
    return runs


def test_every_round_runs_every_target_of_every_scale_once_with_the_scales_mixed(loaded):
    scales = [_scale("10k", 18080), _scale("1m", 18090)]
    options = run.parse_args(["--rounds", "3"])

    results = run.rounds(scales, options)

    expected = {
        (f"http://127.0.0.1:{port}", name)
        for base in (18080, 18090)
        for name, port in (("list", base), ("read", base), ("ref_page", base + 1))
    }
    rounds = [loaded[i : i + 6] for i in range(0, 18, 6)]
    assert len(loaded) == 18
    for each in rounds:
        assert set(each) == expected
    # Interleaved, not one scale's targets and then the other's.
    assert any(
        {url.endswith(("18080", "18081")) for url, _ in each[:3]} == {True, False}
        for each in rounds
    )
    for name, base in (("10k", 18080), ("1m", 18090)):
        assert [s.rps for s in results[name]["list"].samples] == [base] * 3
        assert [s.rps for s in results[name]["ref_page"].samples] == [base + 1] * 3
