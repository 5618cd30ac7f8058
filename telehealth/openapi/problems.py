"""Errors as RFC 9457 problems: the `Problem` schema, the headers the service sends, and the
shared response of each error status (`NotFound`, ...), which operations refer to."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from telehealth.errors import PROBLEM_JSON

Json = dict[str, Any]

PROBLEM = "Problem"
SCHEMAS = "#/components/schemas/"
PROBLEM_SCHEMA: Json = {
    "type": "object",
    "description": "An RFC 9457 problem. Extension members (such as the id of a conflicting "
    "session) may appear beside the standard ones.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string", "minLength": 1},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "minLength": 1},
        "errors": {
            "type": "object",
            "description": "On 422: a message for each invalid field (`vitals.systolic`).",
            "additionalProperties": {"type": "string"},
        },
    },
    "additionalProperties": True,
}

HEADERS: dict[str, Json] = {
    "X-Request-ID": {
        "description": "The request's id, also in the service's logs: the caller's own "
        "`X-Request-ID` when it is 1-128 letters, digits or `._:-`, else a new one.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
    },
    "WWW-Authenticate": {
        "description": "The Bearer challenge.",
        "required": True,
        "schema": {"type": "string", "example": 'Bearer realm="telehealth"'},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Limit": {
        "description": "Requests allowed in the current window.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the current window.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Reset": {
        "description": "When the window resets, in seconds since the epoch.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same Idempotency-Key and body.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Content-Disposition": {
        "description": "The file name to save the body under.",
        "schema": {"type": "string"},
    },
}
#: flask-limiter's headers, on every answer of a rate-limited route.
RATE_LIMIT_HEADERS = (
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)

#: What a problem of each status means in general, and the headers it always carries.
ERROR_STATUSES: dict[int, tuple[str, tuple[str, ...]]] = {
    400: (
        "A malformed request: a body that is not JSON in UTF-8 or nests too deeply, or a query "
        "string that is not UTF-8.",
        (),
    ),
    401: ("No valid access token (missing, malformed, expired or revoked).", ("WWW-Authenticate",)),
    403: ("The caller's role may never use this route.", ()),
    404: ("No such record, or one the caller may not see (the two are not told apart).", ()),
    409: ("The request conflicts with the record's current state.", ()),
    412: ("If-Match names a version that is no longer current; read the record again.", ()),
    413: ("The body is larger than the service accepts.", ()),
    414: ("The URL is longer than the service accepts (4,096 characters).", ()),
    415: ("A body that is not JSON (`Content-Type: application/json`).", ()),
    422: ("Invalid fields; `errors` has a message for each.", ()),
    428: ("If-Match is missing: send the ETag last read.", ()),
    429: ("Too many requests; wait for `Retry-After` seconds.", ("Retry-After",)),
    503: (
        "The database is not answering; try again after `Retry-After` seconds.",
        ("Retry-After",),
    ),
}


def response_name(status: int) -> str:
    """The component name of a status's problem response, e.g. `NotFound`."""
    return "".join(part.capitalize() for part in HTTPStatus(status).phrase.split())


def problem_response(
    status: int, description: str | None = None, extra_headers: tuple[str, ...] = ()
) -> Json:
    default, always = ERROR_STATUSES[status]
    headers: dict[str, str | Json] = {name: name for name in ("X-Request-ID", *extra_headers)}
    headers.update({name: _always_sent(name) for name in always})
    return {
        "description": description or default,
        "content": {PROBLEM_JSON: {"schema": {"$ref": SCHEMAS + PROBLEM}}},
        "headers": headers,
    }


def _always_sent(name: str) -> str | Json:
    """The header component, or a required copy where this status always carries it."""
    if HEADERS[name].get("required"):
        return name
    return {**HEADERS[name], "required": True}
