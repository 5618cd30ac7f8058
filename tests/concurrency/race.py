"""Fire many requests at once: every thread waits at a barrier, then all send together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask


def race(app: Flask, count: int, send: Callable[[Any, int], Any]) -> list[Any]:
    """Run `send(client, index)` in `count` threads released at the same moment; their
    responses."""
    barrier = threading.Barrier(count)

    def one(index: int) -> Any:
        client = app.test_client()
        barrier.wait()
        return send(client, index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))
