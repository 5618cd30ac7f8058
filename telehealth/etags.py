"""ETags from record versions, and the If-Match rule for PATCH (428 missing, 412 stale)."""

from __future__ import annotations

from flask import request

from telehealth.errors import PreconditionFailed, PreconditionRequired


def etag_of(version: int) -> str:
    return f'"v{version}"'


def require_if_match(version: int) -> None:
    """Refuse an edit unless the client proves it saw the current version."""
    if not request.headers.get("If-Match"):
        raise PreconditionRequired("Send If-Match with the ETag you last read.")
    if not request.if_match.contains(etag_of(version).strip('"')):
        raise PreconditionFailed("The record changed since you read it; read it again.")
