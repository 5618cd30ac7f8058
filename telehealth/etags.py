"""ETags from record versions, and the If-Match rule for PATCH (428 missing, 412 stale).

`If-Match: *` (RFC 9110: "any current representation") proves nothing about which version the
client read, so it counts as missing: 428, like no header at all."""

from __future__ import annotations

from flask import request

from telehealth.errors import PreconditionFailed, PreconditionRequired

# OpenAPI: the ETag response header and the If-Match request header, declared once.
ETAG_HEADER = {
    "ETag": {"description": "The record's version, for If-Match.", "schema": {"type": "string"}}
}
IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}


def etag_of(version: int) -> str:
    return f'"v{version}"'


def require_if_match(version: int) -> None:
    """Refuse an edit unless the client proves it saw the current version."""
    if not request.headers.get("If-Match") or request.if_match.star_tag:
        raise PreconditionRequired("Send If-Match with the ETag you last read (not *).")
    if not request.if_match.contains(etag_of(version).strip('"')):
        raise PreconditionFailed("The record changed since you read it; read it again.")


def check_if_match_if_sent(version: int) -> None:
    """For a replace that works without `If-Match` (PUT): a stale ETag sent is still refused,
    and so is an empty header (428, as for a PATCH without one)."""
    if "If-Match" in request.headers:
        require_if_match(version)
