"""The one owner of `flask.g`: what a request carries from one hook or decorator to the next.

Every key is read and written here, through a typed function, so a module that wants to know
who is calling or which session is open asks this module rather than `g` itself.

key            written by                                    read by
-------------  --------------------------------------------  ------------------------------
request_id     observability.start_request (before_request)  the audit event, the log line
started        observability.start_request (before_request)  the log line
current_actor  the token check, logins, the calendar feed     the audit event, the log line
audit          audit.context.audited (the view decorator)    the request boundary
keep_changes   errors.handle_api_error                       the request boundary
db_session     database.Database.session (on first use)      the request boundary, teardown
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import g

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from telehealth.accounts.models import User
    from telehealth.audit.context import AuditContext


def request_id() -> str | None:
    """The request's id (the caller's X-Request-ID when it is safe, else a fresh one)."""
    value: str | None = g.get("request_id")
    return value


def set_request_id(value: str | None) -> None:
    if value is None:
        g.pop("request_id", None)
    else:
        g.request_id = value


def started() -> float | None:
    """When the request started, by `time.perf_counter()`."""
    value: float | None = g.get("started")
    return value


def set_started(value: float) -> None:
    g.started = value


def current_actor() -> User | None:
    """The authenticated user, or None before authentication (or for anonymous routes)."""
    value: User | None = g.get("current_actor")
    return value


def set_current_actor(user: User | None) -> None:
    if user is None:
        g.pop("current_actor", None)
    else:
        g.current_actor = user


def audit() -> AuditContext | None:
    """What the audited view touches; the request boundary writes it as one event."""
    value: AuditContext | None = g.get("audit")
    return value


def set_audit(context: AuditContext) -> None:
    g.audit = context


def keep_changes() -> bool:
    """Whether a failed request keeps its own writes (see `ApiError.keep_changes`)."""
    return bool(g.get("keep_changes", False))


def set_keep_changes() -> None:
    g.keep_changes = True


def db_session() -> Session | None:
    """The request's session if one was opened, without opening one."""
    value: Session | None = g.get("db_session")
    return value


def set_db_session(session: Session) -> None:
    g.db_session = session


def pop_db_session() -> Session | None:
    """Forget the request's session (at teardown) and hand it back to be closed."""
    value: Session | None = g.pop("db_session", None)
    return value
