"""The one task queue, configured once from the environment (it must exist before the tasks
that are declared on it, so before any app is created).

`TASK_QUEUE_URL` chooses it: `redis://...` (production: shared by every app instance and
worker), `sqlite:///path` (one machine), or `memory://` (tests that drain it themselves).
Without it, `REDIS_URL` is used when set, else a SQLite file under `instance/`: a newcomer needs
nothing installed.
"""

from __future__ import annotations

import os
from pathlib import Path

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

ROOT = Path(__file__).resolve().parent.parent.parent


def queue_url() -> str:
    explicit = os.environ.get("TASK_QUEUE_URL")
    if explicit:
        return explicit
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return redis_url
    return f"sqlite:///{ROOT / 'instance' / 'queue.sqlite3'}"


def make_queue(url: str, name: str) -> Huey:
    """A Huey for `url`. Results are not kept: tasks report through the database."""
    if url.startswith("memory:"):
        return MemoryHuey(name, results=False)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, results=False)
    raise RuntimeError(f"TASK_QUEUE_URL must be redis://, sqlite:/// or memory://, not {url!r}")


huey = make_queue(queue_url(), os.environ.get("TASK_QUEUE_NAME", "telehealth"))


def claim_slot(name: str, slot: int) -> bool:
    """True for the first caller to claim `slot` of `name` across every worker sharing the
    queue (an atomic set-if-absent in the queue's storage). Redis forgets a claim by itself
    after a while; other storages drop the claim of a slot long past when a new one is made."""
    if isinstance(huey, RedisHuey):
        # SET NX EX, not huey's put_if_empty(ttl=...): that needs hash-field expiry (Redis
        # 7.4+), and Debian's Redis is 7.0.
        key = f"huey.slot.{huey.name}.{name}:{slot}"
        return bool(huey.storage.conn.set(key, "1", nx=True, ex=SLOT_MEMORY))
    claimed = bool(huey.put_if_empty(f"{name}:{slot}", "1"))
    if claimed:
        huey.delete(f"{name}:{slot - SLOT_MEMORY}")
    return claimed


#: How many slots (seconds, for Redis) a claim is remembered.
SLOT_MEMORY = 120
