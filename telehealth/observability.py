"""Request ids, one structured log line per request, and the health endpoints."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from telehealth import context
from telehealth.errors import problem
from telehealth.extensions import db
from telehealth.openapi.marks import NO_DATABASE

request_log = logging.getLogger("telehealth.request")
health = Blueprint("health", __name__, description="Liveness and readiness")

# Honour a caller's request id only when it cannot smuggle anything into logs or headers.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    root = logging.getLogger("telehealth")
    root.handlers[:] = [handler]
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    root.propagate = app.testing  # let pytest's caplog see records in tests


def start_request() -> None:
    context.set_started(time.perf_counter())
    supplied = request.headers.get("X-Request-ID", "")
    context.set_request_id(supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex)


def _actor_id() -> str | None:
    """The caller's id without touching the database: a failed request's rollback has expired
    the user object, and reloading it (`actor.id`) would query a database that may be down,
    turning a 503 into a 500 here, after the error handlers."""
    actor = context.current_actor()
    identity = inspect(actor).identity if actor is not None else None
    return str(identity[0]) if identity else None


def log_request(response: Response) -> Response:
    response.headers["X-Request-ID"] = context.request_id() or ""
    started = context.started()
    duration_ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
    request_log.info(
        "request",
        extra={
            "request_id": context.request_id(),
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule else None,
            "status": response.status_code,
            "duration_ms": round(duration_ms, 2),
            "user_id": _actor_id(),
        },
    )
    return response


def register_observability(app: Flask) -> None:
    configure_logging(app)
    app.before_request(start_request)
    # after_request hooks run last-registered first: this one must run after the commit.
    app.after_request(log_request)


class StatusOut(Schema):
    status = fields.String(required=True)


@health.get("/healthz")
@health.response(200, StatusOut)
@health.doc(operationId="checkHealth", security=[], **NO_DATABASE)
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@health.get("/readyz")
@health.response(200, StatusOut)
@health.alt_response(503, description="The database is not answering.")
@health.doc(operationId="checkReadiness", security=[])
def readyz() -> Response | dict[str, str]:
    """Readiness: the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except DBAPIError:
        return problem(503, "The database is not answering.", headers={"Retry-After": "5"})
    return {"status": "ready"}
