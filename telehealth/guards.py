"""Checks on the raw request, before any view: what the argument parser cannot answer itself.

- A body on a write must be JSON (415 otherwise): the argument parser ignores a body of any
  other type and would load the request as if it had no fields, so a form-encoded body could
  acknowledge an alert with none of its fields read.
- A JSON body must be UTF-8 (RFC 8259), nest no deeper than `MAX_JSON_DEPTH`, hold no
  number Python refuses to convert and no string that is not Unicode (400): Python's json
  raises RecursionError on deep nesting and ValueError on integer literals beyond 4300 digits,
  and accepts a lone surrogate escape ("\\ud800") that no database driver can encode; nothing
  downstream catches these (the limiter's key function and the idempotency hash read the body
  too).
- A body sent without a Content-Length (chunked) is held to the same cap (413).
- The URL (path and query string, as sent) is at most `MAX_URL_LENGTH` characters (414, as a
  problem like every other error; gunicorn's own limit sits above it, so its HTML page is never
  what a client meets below 8 KiB). Every query parameter declares a bounded length, so no
  valid request comes near it.
- The query string must be UTF-8 once percent-decoded (400), instead of being read with
  replacement characters.
- An API route that declares no query parameters refuses any (422); the others refuse unknown
  ones when their arguments are parsed (`extensions.StrictQueryParser`).

Malformed JSON is 400 "The body is not valid JSON." (rather than Werkzeug's words about a
browser). A refusal here is audited like any other when the route is audited.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, current_app, request
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    RequestEntityTooLarge,
    RequestURITooLarge,
    UnprocessableEntity,
    UnsupportedMediaType,
)

#: Longer than any valid request of this API (the longest: a search of 200 characters, each
#: percent-encoded from four UTF-8 bytes, and a cursor: about 3,000) and below gunicorn's
#: `limit_request_line` (config/gunicorn.conf.py).
MAX_URL_LENGTH = 4096
#: Far deeper than any body of this API (a check-in's instruments nest three levels).
MAX_JSON_DEPTH = 32
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def inspect_json(document: Any) -> int:
    """How deeply arrays and objects nest in `document` (a scalar is 0), walked level by level
    rather than recursively; a string (key or value) that is not Unicode is refused on the way."""
    depth, level = 0, [document]
    while level:
        for value in level:
            if isinstance(value, str) and not _is_unicode(value):
                raise BadRequest("The JSON body holds a string that is not Unicode.")
        containers = [value for value in level if isinstance(value, dict | list)]
        if containers:
            depth += 1
        level = [
            child
            for container in containers
            for child in (
                [*container.keys(), *container.values()]
                if isinstance(container, dict)
                else container
            )
        ]
    return depth


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, from a "\\ud800" escape
        return False
    return True


def _has_body() -> bool:
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    return chunked or bool(request.content_length)


def _check_url_length() -> None:
    sent = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    length = len(sent) if sent else len(request.path) + 1 + len(request.query_string)
    if length > MAX_URL_LENGTH:
        raise RequestURITooLarge(
            f"The URL is longer than the limit of {MAX_URL_LENGTH} characters."
        )


def _check_query_string() -> None:
    try:
        unquote_to_bytes(request.query_string).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The query string is not valid UTF-8.") from None


def _refuse_query_without_parameters() -> None:
    """An API route that declares no query parameters refuses any (422, like an unknown body
    field); routes that declare some refuse unknown ones in their argument parser."""
    if not request.args or request.url_rule is None or not request.path.startswith("/api/"):
        return  # no such route (404) or method (405): that answer comes first
    view = current_app.view_functions.get(request.endpoint or "")
    if not declares_query_parameters(view):
        raise UnknownQueryParameters(list(request.args))


def declares_query_parameters(view: object) -> bool:
    """Whether the view reads query arguments (`@blp.arguments(..., location="query")`).

    flask-smorest offers no public way to ask; it keeps what each decorator declared in the
    view's `_apidoc`. This is the one place that reads it, and
    tests/hardening/test_hardening_query.py::test_flask_smorest_still_records_where_a_view_reads_its_arguments
    fails the day a release moves it (without it every query parameter would be refused)."""
    documented = getattr(view, "_apidoc", None)
    arguments = documented.get("arguments", {}).get("parameters", []) if documented else []
    return any(argument.get("in") == "query" for argument in arguments)


class UnknownQueryParameters(UnprocessableEntity):
    """422 naming each parameter, the way the argument parser names unknown fields."""

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.data = {"messages": {"query": {name: ["Unknown field."] for name in names}}}


def _check_body() -> None:
    if request.method not in BODY_METHODS or not _has_body():
        return
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON (Content-Type: application/json).")
    raw = request.get_data(cache=True)  # 413 when the Content-Length is over the cap
    _refuse_truncated(raw)
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("The body is not valid UTF-8.") from None
    except json.JSONDecodeError:
        raise BadRequest("The body is not valid JSON.") from None
    except (RecursionError, ValueError):
        raise BadRequest("The JSON body is nested too deeply or holds too long a number.") from None
    if inspect_json(document) > MAX_JSON_DEPTH:
        raise BadRequest(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.")


def _refuse_truncated(raw: bytes) -> None:
    """Without a Content-Length (a chunked body), Werkzeug stops reading at the cap without an
    error: what it read would pass for the whole body. One byte more on the wire is a 413."""
    cap = request.max_content_length
    at_cap = request.content_length is None and cap is not None and len(raw) >= cap
    if at_cap and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()


def _audit_refusal() -> None:
    """Open the route's audit context, as `@audited` would have, so the refusal is recorded."""
    view = current_app.view_functions.get(request.endpoint or "")
    begin = getattr(view, "audit_begin", None)
    if begin is not None:
        begin()


def check_request() -> None:
    try:
        _check_url_length()
        _check_query_string()
        _refuse_query_without_parameters()
        _check_body()
    except HTTPException:
        _audit_refusal()
        raise


def register_request_guards(app: Flask) -> None:
    app.before_request(check_request)
