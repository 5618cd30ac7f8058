"""The session manager: one engine and session factory per app, one session per request.

The request's session is created on first use and closed at teardown; it is committed once at
the request boundary by `telehealth.transactions`, and services that take it never commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import Session, sessionmaker

from telehealth import context
from telehealth.db import Base
from telehealth.engine import build_engine


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
        session = context.db_session()
        if session is None:
            session = current_app.extensions["database"]["factory"]()
            context.set_db_session(session)
        return session

    def _close_session(self, _exc: BaseException | None) -> None:
        session = context.pop_db_session()
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
