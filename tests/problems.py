"""Assertions on RFC 9457 problem responses and UTC timestamps, shared by every test folder."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from werkzeug.test import TestResponse

PROBLEM_JSON = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail"}
# Words that would betray a stack trace, SQL or internal names in an error body.
INTERNALS = ("traceback", "sqlalchemy", "integrityerror", "constraint", "select ", "insert ")


def assert_problem(response: TestResponse, status: int, *fields: str) -> dict[str, Any]:
    """An RFC 9457 problem with this status and nothing internal in it; on 422 its `errors`
    name (at least) `fields`. Returns the body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json()
    assert body.keys() >= PROBLEM_KEYS, body
    assert body["status"] == status
    assert all(isinstance(body[key], str) and body[key] for key in ("type", "title", "detail"))
    text = response.get_data(as_text=True).lower()
    assert not any(word in text for word in INTERNALS), text
    for field in fields:
        assert names_field(body.get("errors") or {}, field), body
    return body  # type: ignore[no-any-return]


def names_field(errors: dict[str, str], field: str) -> bool:
    """`errors` has a message for `field` itself or for a part of it (`vitals.systolic`)."""
    return any(key == field or key.startswith(f"{field}.") for key in errors)


def assert_utc(timestamp: str) -> None:
    assert timestamp.endswith(("Z", "+00:00")), timestamp


def parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
