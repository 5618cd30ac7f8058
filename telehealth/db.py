"""Declarative base, column types and the per-request session.

One `Session` per request (created on first use, closed at teardown), committed once at the
request boundary by `telehealth.transactions`; services take a session and never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Flask, current_app, g
from sqlalchemy import DateTime, Engine, Executable, MetaData, Table, Uuid, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; SQLite hands it back aware too.

    Naive datetimes are refused rather than guessed at: every time that reaches the database
    carries its offset.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: times must carry an offset")
        value = value.astimezone(UTC)
        # SQLite stores text; keep it comparable by storing every value without an offset suffix.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        # PostgreSQL sessions run in UTC (build_engine), so psycopg already hands back
        # datetimes aware in UTC: no per-value call, which a 2,000-point series would feel.
        if dialect.name == "postgresql":
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def driver_rows(session: Session, statement: Executable, params: dict[str, Any]) -> list[Any]:
    """The rows of a statement of plain columns, as tuples.

    Where no column needs converting on this database (PostgreSQL reads UUIDs, integers,
    text and UTC times as they are, see UTCDateTime), straight from the driver's cursor:
    SQLAlchemy's per-row work is most of the cost of a read of thousands of rows (outcomes:
    2,000 points, 2.2 -> 0.8 ms). Otherwise its own rows, which unpack the same.
    """
    result = session.connection().execute(statement, params)
    if any(result._metadata._processors):
        return list(result)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def plain_rows(
    session: Session, statement: Executable, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The rows of a statement of columns as dicts, by column name.

    Run on the session's connection: a statement of columns needs nothing of the ORM, whose
    result handling and per-row `Row._asdict()` cost about a third of the CPU of reading a page
    of fifty rows (0.50 -> 0.33 ms, sessions).
    """
    result = session.connection().execute(statement, params)
    names = list(result.keys())
    return [dict(zip(names, row, strict=True)) for row in result]


def table_of(model: type[DeclarativeBase]) -> Table:
    """A model's table, typed as one, for statements run without the ORM's bookkeeping."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, uuid.UUID: Uuid}


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


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
            # Times come back aware in UTC (UTCDateTime relies on it).
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


class Database:
    """The engine and session factory of one app, reachable as `db` from anywhere in a request."""

    def init_app(self, app: Flask) -> None:
        engine = build_engine(
            app.config["DATABASE_URL"],
            app.config.get("DATABASE_ECHO", False),
            pool_size=app.config.get("DATABASE_POOL_SIZE", 10),
            max_overflow=app.config.get("DATABASE_MAX_OVERFLOW", 10),
            pool_timeout=app.config.get("DATABASE_POOL_TIMEOUT", 5),
        )
        app.extensions["database"] = {
            "engine": engine,
            "factory": sessionmaker(engine, expire_on_commit=False),
        }
        app.teardown_appcontext(self._close_session)

    @property
    def metadata(self) -> MetaData:
        return Base.metadata

    @property
    def engine(self) -> Engine:
        return current_app.extensions["database"]["engine"]  # type: ignore[no-any-return]

    def get_engine(self) -> Engine:
        """Flask-Migrate's spelling."""
        return self.engine

    def use_factory(self, app: Flask, factory: sessionmaker[Session]) -> None:
        """Replace the session factory (tests bind it to one connection in a transaction)."""
        app.extensions["database"]["factory"] = factory

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = current_app.extensions["database"]["factory"]()
        return g.db_session  # type: ignore[no-any-return]

    def _close_session(self, _exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()

    def open_session(self) -> Session:
        """A session of its own, for work that outlives the request's (a streamed response);
        the caller closes it."""
        return current_app.extensions["database"]["factory"]()  # type: ignore[no-any-return]

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """A unit of work outside a request (commands, scripts): commit or roll back."""
        with current_app.extensions["database"]["factory"]() as session, session.begin():
            yield session
