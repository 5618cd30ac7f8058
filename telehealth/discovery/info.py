"""The OpenAPI document's description: what the service is for, how to sign in and authorize
on the `/docs` page, the error format, pagination, idempotency, ETags and limits. The longer
guide, with examples, is `docs/api.md`; the numbers here come from the settings the app runs
with, so the page never disagrees with the service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telehealth.pagination import DEFAULT_LIMIT, MAX_LIMIT

API_BASE = "/api/v1"


def spec_info(config: Mapping[str, Any]) -> dict[str, Any]:
    """The OpenAPI `info` beside the title and version: what the service is for and how to use
    it, with the numbers taken from the settings it runs with."""
    return {"description": describe(config)}


def describe(config: Mapping[str, Any]) -> str:
    access_minutes = int(config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds() // 60)
    return f"""\
A REST service for at-home ketamine-assisted therapy under telehealth monitoring. Clinicians
schedule treatment sessions and record monitoring notes; patients send mood check-ins with
questionnaires (PHQ-9, GAD-7, PCL-5) that the server scores; the care team answers safety
alerts and follows outcomes. Every read and change of a health record is audited.

**The service never makes a dosing decision and stores no dose amount.** It records *that* and
*when* the prescribed medication was taken (`medication_taken_at`); a `dose` field anywhere is
an unknown field (422). Alerts ask for a review, never for a change of medication.

## Signing in, and trying the API on this page

1. `POST {API_BASE}/auth/login` with `{{"email": ..., "password": ...}}` (*Try it out*). The
   answer holds an `access_token` (valid {access_minutes} minutes) and a `refresh_token`.
2. Press **Authorize** at the top of this page and paste the `access_token` alone (no
   `Bearer ` prefix): every call made from this page then sends
   `Authorization: Bearer <access token>`.
3. When it expires (401 whose `WWW-Authenticate` says
   `error_description="The access token expired"`), call `POST {API_BASE}/auth/refresh` with
   the refresh token as the bearer token or in the body as `{{"refresh_token": ...}}`. Refresh
   tokens rotate: each is spent when used. The same one sent again within a grace of
   {config["REFRESH_REUSE_GRACE_SECONDS"]} seconds (a retry) gets the same new pair; a spent one
   sent later ends the whole sign-in. Any other 401 means: sign in again.
   `POST {API_BASE}/auth/logout` ends the sign-in at once.

Roles: **admin** (runs the service, manages accounts), **clinician** (the patients of their
care teams), **patient** (their own record). A route a role may never use is 403; a record the
caller may not see is 404, exactly like one that does not exist.

## Errors

Every error is an RFC 9457 problem, `Content-Type: application/problem+json`:

```json
{{"type": "about:blank", "title": "Unprocessable Entity", "status": 422,
 "detail": "The request has invalid fields.",
 "errors": {{"mood": "Must be greater than or equal to 0 and less than or equal to 10."}}}}
```

`errors` (on 422) names each invalid field. Unknown fields in a body and unknown query
parameters are 422 too. Some conflicts (409) add members such as `conflicting_session_id` or
`missing`. No error carries a stack trace, SQL or health data.

## Lists

Lists page with a cursor: `?limit=` (1-{MAX_LIMIT}, default {DEFAULT_LIMIT}) and `?cursor=`
(the previous page's `next_cursor`, opaque). The body is
`{{"items": [...], "next_cursor": "..." or null}}`; null means the last page. The session and
check-in lists also take `updated_since`, so an app fetches only what changed.

## Retries: Idempotency-Key

`POST {API_BASE}/checkins` accepts an `Idempotency-Key` header (1-255 of `A-Za-z0-9._:-`,
scoped to the user). The same key with the same body answers the first response again, with
`Idempotent-Replayed: true`; the same key with another body is 422; while the first request
is still running, 409. Keys are kept {config["IDEMPOTENCY_TTL_HOURS"]} hours.

## Edits: ETag and If-Match

Records that can be edited answer with an `ETag`. A `PATCH` must send it back in `If-Match`:
without it, or with `If-Match: *`, 428; when the record changed since, 412 (read it again).
`PUT {API_BASE}/patients/{{patient_id}}/schedule` checks `If-Match` when one is sent.

## Limits and headers

Sign-in (per address and per account) and the other routes that take a password or a secret
are rate limited: 429 with `Retry-After` (seconds). A body over {config["MAX_CONTENT_LENGTH"]}
bytes is 413; a write that is not JSON is 415. Every answer carries `Cache-Control: no-store`,
`X-Content-Type-Options: nosniff` and `X-Request-ID` (yours when it is 1-128 of
`A-Za-z0-9._:-`, else a new one: quote it when reporting a problem). Times are RFC 3339; the
service answers in UTC and adds the patient's local time where it matters.
"""
