"""Resident memory of gunicorn workers: peaks under load, and growth during one export."""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.servers import worker_pids

KB_PER_MB = 1024


def read_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of `pid` in kB; empty once the process is gone."""
    values: dict[str, int] = {}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return values
    for line in lines:
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def reset_peak(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux 4.0+); False where refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class WorkerPeak:
    pid: int
    peak_rss_kb: int = 0
    hwm_kb: int = 0

    @property
    def peak_mb(self) -> float:
        return max(self.peak_rss_kb, self.hwm_kb) / KB_PER_MB


class LoadSampler(threading.Thread):
    """Samples every worker of the given gunicorn masters while the load runs.

    Workers are listed afresh at each tick: `max_requests` recycles them under load, and a
    replacement is a new process with its own peak.
    """

    def __init__(self, masters: dict[str, int], interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.masters, self.interval = masters, interval
        self.peaks: dict[str, dict[int, WorkerPeak]] = {name: {} for name in masters}
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            self.sample()
            self._stopping.wait(self.interval)

    def sample(self) -> None:
        for name, master in self.masters.items():
            for pid in worker_pids(master):
                status = read_status(pid)
                if not status:
                    continue
                peak = self.peaks[name].setdefault(pid, WorkerPeak(pid))
                peak.peak_rss_kb = max(peak.peak_rss_kb, status.get("VmRSS", 0))
                peak.hwm_kb = max(peak.hwm_kb, status.get("VmHWM", 0))

    def finish(self) -> dict[str, list[WorkerPeak]]:
        self.sample()
        self._stopping.set()
        self.join()
        return {
            name: sorted(by_pid.values(), key=lambda p: p.pid)
            for name, by_pid in self.peaks.items()
        }


class PidSampler(threading.Thread):
    """VmRSS of one process every `interval` seconds (the export's ~5 ms)."""

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kb = pid, interval, 0
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            self.peak_kb = max(self.peak_kb, read_status(self.pid).get("VmRSS", 0))
            time.sleep(self.interval)

    def finish(self) -> int:
        self._stopping.set()
        self.join()
        return self.peak_kb


@dataclass
class ExportGrowth:
    label: str
    path: str
    status: int
    bytes: int
    seconds: float
    before_mb: float
    peak_mb: float
    growth_mb: float
    samples_every_ms: float = 5.0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def stream(port: int, path: str, token: str) -> tuple[int, int]:
    """GET `path`, reading the body in 64 kB pieces as a client would; (status, bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        received = 0
        while chunk := response.read(65536):
            received += len(chunk)
        return response.status, received
    finally:
        connection.close()


def export_growth(port: int, worker: int, label: str, path: str, token: str) -> ExportGrowth:
    """The worker's RSS before, its peak while `path` streams, and the difference."""
    peak_reset = reset_peak(worker)
    before = read_status(worker).get("VmRSS", 0)
    sampler = PidSampler(worker)
    sampler.start()
    started = time.perf_counter()
    try:
        status, received = stream(port, path, token)
    finally:
        sampled_peak = sampler.finish()
    seconds = time.perf_counter() - started
    # With the high-water mark reset first, VmHWM catches a peak between two samples too.
    hwm = read_status(worker).get("VmHWM", 0) if peak_reset else 0
    peak = max(sampled_peak, hwm, before)
    notes = [] if peak_reset else ["VmHWM could not be reset: peak from 5 ms samples only"]
    return ExportGrowth(
        label=label,
        path=path,
        status=status,
        bytes=received,
        seconds=round(seconds, 3),
        before_mb=round(before / KB_PER_MB, 1),
        peak_mb=round(peak / KB_PER_MB, 1),
        growth_mb=round((peak - before) / KB_PER_MB, 1),
        notes=notes,
    )
