"""ETags from record versions, and the If-Match rule for edits (428 missing, 412 stale).

Routes read the `If-Match` header and pass its value in; services compare it with the record's
version here, under the row lock they hold, so the rule needs no request to run.

`If-Match: *` (RFC 9110: "any current representation") proves nothing about which version the
client read, so it counts as missing: 428, like no header at all."""

from __future__ import annotations

from werkzeug.http import parse_etags

from telehealth.errors import PreconditionFailed, PreconditionRequired

# OpenAPI: the ETag response header and the If-Match request header, declared once.
ETAG_HEADER = {
    "ETag": {"description": "The record's version, for If-Match.", "schema": {"type": "string"}}
}
IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}


def etag_of(version: int) -> str:
    return f'"v{version}"'


def require_if_match(version: int, if_match: str | None) -> None:
    """Refuse an edit unless `if_match` (the header's value, None when not sent) proves the
    client saw the current version."""
    tags = parse_etags(if_match)
    if not if_match or tags.star_tag:
        raise PreconditionRequired("Send If-Match with the ETag you last read (not *).")
    if not tags.contains(etag_of(version).strip('"')):
        raise PreconditionFailed("The record changed since you read it; read it again.")


def check_if_match_if_sent(version: int, if_match: str | None) -> None:
    """For a replace that works without `If-Match` (PUT): a stale ETag sent is still refused,
    and so is an empty header (428, as for a PATCH without one)."""
    if if_match is not None:
        require_if_match(version, if_match)
