"""Typed API errors and the one RFC 9457 problem+json response every error goes through."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, json
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from telehealth import context
from telehealth.extensions import retry_after_seconds

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
BEARER_CHALLENGE = 'Bearer realm="telehealth"'


class ApiError(Exception):
    """An expected failure, shown to the client as a problem with this status."""

    status = 400
    title: str | None = None
    #: Keep what the request wrote although it fails (e.g. revoking a reused token family).
    keep_changes = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})
        #: Extra members of the problem object (RFC 9457 section 3.2), e.g. a conflicting id.
        self.extensions = dict(extensions or {})


class Unauthorized(ApiError):
    status = 401

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("WWW-Authenticate", BEARER_CHALLENGE)


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class PreconditionFailed(ApiError):
    status = 412


class UnprocessableEntity(ApiError):
    status = 422


class PreconditionRequired(ApiError):
    status = 428


class ServiceUnavailable(ApiError):
    status = 503


def problem(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    errors: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        **(extensions or {}),
        "type": "about:blank",
        "title": title or phrase,
        "status": status,
        "detail": detail or phrase,
    }
    if errors:
        body["errors"] = dict(errors)
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, str]:
    """webargs/marshmallow nest messages by location and field; clients want `field: message`."""
    flat: dict[str, str] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if key in ("json", "query", "path", "headers", "form", "files") and not prefix:
                flat.update(flatten_messages(value))
                continue
            # marshmallow files errors about a whole object under "_schema": name the object.
            name = (
                prefix
                if key == "_schema" and prefix
                else (f"{prefix}.{key}" if prefix else str(key))
            )
            flat.update(flatten_messages(value, name))
    elif isinstance(messages, list | tuple):
        if all(isinstance(item, str) for item in messages):
            flat[prefix or "_schema"] = " ".join(messages)
        else:
            for item in messages:
                flat.update(flatten_messages(item, prefix))
    else:
        flat[prefix or "_schema"] = str(messages)
    return flat


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    headers = dict(error.get_headers())
    headers.pop("Content-Type", None)
    data = getattr(error, "data", None) or {}
    detail = data.get("message") or error.description if status < 500 else None
    if status == 404:
        detail = "Not found."
    if status == 405:
        detail = "This method is not allowed on this resource."
    if status == 413:
        detail = f"The body is larger than the limit of {_body_limit()} bytes."
    if status == 429:
        detail = "Too many requests; try again later."
        headers.setdefault("Retry-After", str(retry_after_seconds()))
    headers.update(data.get("headers") or {})
    errors = data.get("errors") or data.get("messages")
    if status == 422 and errors:
        errors = flatten_messages(errors)
        detail = "The request has invalid fields."
    return problem(status, detail, errors=errors if status == 422 else None, headers=headers)


def _body_limit() -> int:
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or 0)


def handle_api_error(error: ApiError) -> Response:
    if error.keep_changes:
        context.set_keep_changes()
    return problem(
        error.status,
        error.detail,
        title=error.title,
        errors=error.errors,
        headers=error.headers,
        extensions=error.extensions,
    )


def handle_database_unavailable(error: DBAPIError) -> Response:
    if isinstance(error, OperationalError) or error.connection_invalidated:
        log.warning("database unavailable: %s", type(error.orig).__name__)
        return problem(
            503,
            "The service is temporarily unavailable; try again shortly.",
            headers={"Retry-After": "5"},
        )
    return handle_unexpected(error)


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("unhandled error", exc_info=error)
    return handle_http_exception(InternalServerError())


def register_error_handlers(app: Flask) -> None:
    """Answer every error as a problem. Call it after `api.init_app`, which registers
    flask-smorest's own HTTPException handler: the later registration wins."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(DBAPIError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
