"""The database engine: pool and driver settings, and what SQLite needs to behave like
PostgreSQL here (real transactions, foreign keys, the audit chain's hash functions)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool


def build_engine(
    url: str,
    echo: bool = False,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = 5,
) -> Engine:
    """The engine for `url`; the pool settings apply to PostgreSQL (SQLite keeps its own)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, hide_parameters=True, **_sqlite_engine_options(url))
        _make_sqlite_transactional(engine)
        return engine
    return create_engine(
        url,
        echo=echo,
        # Bound values are health data: never let them into exception messages or logs.
        hide_parameters=True,
        pool_pre_ping=True,
        # JSON columns (answers, score details) read by orjson: a page reads a hundred.
        json_deserializer=orjson.loads,
        # A database that accepts connections but never answers must fail fast (503), not
        # outlive the worker timeout; keepalives find dead connections the same way.
        connect_args={
            # Times come back aware in UTC (db.UTCTimestamp relies on it).
            "options": "-c TimeZone=UTC",
            "connect_timeout": 5,
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        },
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
    )


def _sqlite_engine_options(url: str) -> dict[str, Any]:
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if url in ("sqlite://", "sqlite:///:memory:"):
        options["poolclass"] = StaticPool
    return options


def _sha256_hex(value: str | None) -> str | None:
    return None if value is None else hashlib.sha256(value.encode()).hexdigest()


def _hmac_sha256_hex(key: str | None, value: str | None) -> str | None:
    if key is None or value is None:
        return None
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def _make_sqlite_transactional(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, emit BEGIN, so savepoints and rollbacks behave; switch on
    foreign keys, which SQLite leaves off by default.

    Transactions begin IMMEDIATE: SQLite has one writer at a time, and taking the write lock up
    front makes read-then-write checks (such as overlapping sessions) serialize and wait for
    each other instead of failing with "database is locked" halfway through.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
        # PostgreSQL has sha256() built in; the audit chain hashes in SQL on both.
        dbapi_connection.create_function("sha256_hex", 1, _sha256_hex, deterministic=True)
        # The keyed audit chain: the key is an argument of each call, never stored.
        dbapi_connection.create_function("hmac_sha256_hex", 2, _hmac_sha256_hex, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
