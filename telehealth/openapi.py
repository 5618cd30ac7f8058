"""The OpenAPI document describes every answer the service gives, not only the happy path.

One apispec plugin, handed to `api.init_app` by `create_app`, completes each operation as its
blueprint is registered. Most of it follows from what the operation already says about itself
(security, the roles of its view, path parameters, body, query and header parameters); a short
table adds what only the service code knows (which conflicts are possible, the rate-limited
sign-in routes, the responses that are not JSON):

- every error is an RFC 9457 problem (`application/problem+json`, the `Problem` schema), listed
  by status: 400, 401, 403, 404, 409, 412, 413, 414, 415, 422, 428, 429 and 503 where they
  apply.
  There is no catch-all `default`: a status the document does not list is a bug;
- the headers: `X-Request-ID` on every answer, `WWW-Authenticate` on 401, `Retry-After` on 429
  and 503, the rate-limit headers of the sign-in routes, `ETag`, `Idempotent-Replayed` and
  `Content-Disposition` where they are sent;
- the iCalendar feed, and the export streamed as JSON or as a FHIR Bundle;
- a body whose fields are all optional may be left out (the argument parser reads it as `{}`).

Marshmallow attribute functions state in JSON Schema what validators check in code: a trimmed
`Text` needs a visible character and no NUL; a time zone is one of the IANA names; questionnaire
answers come in the instrument's count and range; a PATCH's nested objects are partial; a
nullable nested object is null or the object, nothing else; Python's `\\Z` is written `$`, its
meaning in the ECMA-262 patterns of JSON Schema.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable, Mapping
from copy import deepcopy
from http import HTTPStatus
from typing import Any

from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import fields

from telehealth.errors import PROBLEM_JSON
from telehealth.idempotency import _KEY as IDEMPOTENCY_KEY_PATTERN
from telehealth.idempotency import HEADER as IDEMPOTENCY_KEY
from telehealth.instruments.definitions import INSTRUMENTS
from telehealth.patients.schemas import validate_time_zone
from telehealth.schemas import Text, refuse_nul

Json = dict[str, Any]
AttributeFunction = Callable[..., Json]

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

#: Statuses only the service code knows about, by endpoint, with what they mean there.
ENDPOINT_ERRORS: dict[str, dict[int, str]] = {
    "auth.login": {401: "Wrong email or password: one answer for both, and for inactive users."},
    "auth.activate": {401: "The invitation is invalid, used or expired."},
    "passwords.change_password": {422: "Invalid fields, or `current_password` is wrong."},
    "passwords.reset_password": {401: "The reset token is invalid, used or expired."},
    "auth.refresh": {
        401: "Not a valid refresh token; a spent one also revokes every token of its sign-in."
    },
    "clinicians.create_clinician": {409: "An account with this email already exists."},
    "clinicians.deactivate_user": {
        409: "Admins cannot deactivate their own account; a clinician who is the last active "
        "clinician of a patient stays active until another joins (`patient_ids` names them).",
    },
    "patients.create_patient": {
        409: "An account with this email already exists.",
        422: "Invalid fields; `clinician_id` missing (an admin must name one) or not an active "
        "clinician.",
    },
    "patients.update_patient": {
        403: "A patient may change only their own `timezone` and `emergency_contact`; `errors` "
        "names the fields that are the care team's to change.",
        409: "An account with this email already exists.",
    },
    "patients.add_care_team_member": {404: "No such patient, or no such active clinician."},
    "patients.remove_care_team_member": {
        404: "No such patient, or the clinician is not on its care team.",
        409: "A care team keeps at least one active clinician (`patient_ids` names the patient).",
    },
    "sessions.schedule_session": {
        404: "No such patient on the caller's care teams.",
        409: "Overlaps another session of the clinician or the patient "
        "(`conflicting_session_id` names it).",
    },
    "sessions.update_session": {
        409: "The session is no longer scheduled, or the new time overlaps another session.",
    },
    "sessions.start_session": {
        409: "Only a scheduled session can start, from `SESSION_EARLY_START_MINUTES` before its "
        "start until its end.",
    },
    "sessions.complete_session": {
        409: "Only a session in progress can complete; `missing` lists what the rules still ask "
        "for (the end-of-session checkpoint, signatures) unless a `reason` is given.",
    },
    "sessions.cancel_session": {
        409: "Only a scheduled session can be cancelled; never once the medication was taken.",
    },
    "sessions.mark_no_show": {
        409: "Only a scheduled session can be marked a no-show; never once the medication was "
        "taken.",
    },
    "sessions.medication_taken": {
        409: "Already recorded, or the session is not in progress.",
    },
    "monitoring.sign_note": {
        403: "Only the note's author may sign it.",
        409: "The note is already signed.",
    },
    "alerts.acknowledge_alert": {409: "The alert was already acknowledged."},
    "calendar.get_subscribed_calendar_feed": {
        404: "The secret opens no feed: unknown, rotated, revoked, or its clinician deactivated."
    },
}
RATE_LIMITED = frozenset(
    {
        "auth.login",
        "auth.activate",
        "passwords.change_password",
        "passwords.request_password_reset",
        "passwords.reset_password",
        "calendar.get_subscribed_calendar_feed",
    }
)
NO_DATABASE = frozenset({"health.healthz", "index.service_index", "index.api_index"})
#: Requests that may carry a body, which `telehealth.guards` checks (400, 413, 415).
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})

#: What the service accepts in its request headers (`telehealth.etags`, `.idempotency`).
HEADER_PARAMETER_RULES: dict[str, Json] = {
    "If-Match": {"minLength": 1},
    IDEMPOTENCY_KEY: {"pattern": IDEMPOTENCY_KEY_PATTERN.pattern},
}

EXPORT_JSON: Json = {
    "type": "object",
    "description": "The whole record, one JSON document written as it streams.",
    "required": ["format", "version", "exported_at", "patient", "sessions", "checkins", "alerts"],
    "properties": {
        "format": {"type": "string", "enum": ["telehealth-record"]},
        "version": {"type": "integer"},
        "exported_at": {"type": "string", "format": "date-time"},
        "patient": {"$ref": SCHEMAS + "PatientOut"},
        "sessions": {
            "type": "array",
            "description": "Each session as `SessionOut`, with its `monitoring_notes`.",
            "items": {"type": "object", "required": ["id", "status", "scheduled_start"]},
        },
        "checkins": {"type": "array", "items": {"$ref": SCHEMAS + "CheckInOut"}},
        "alerts": {"type": "array", "items": {"$ref": SCHEMAS + "AlertOut"}},
    },
}
EXPORT_FHIR: Json = {
    "type": "object",
    "description": "A FHIR R4 (R4B) Bundle of type collection; entries refer to each other "
    "by `urn:uuid:` full URLs.",
    "required": ["resourceType", "id", "type", "timestamp", "entry"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]},
        "id": {"type": "string"},
        "type": {"type": "string", "enum": ["collection"]},
        "timestamp": {"type": "string", "format": "date-time"},
        "entry": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["fullUrl", "resource"],
                "properties": {
                    "fullUrl": {"type": "string", "pattern": "^urn:uuid:"},
                    "resource": {"type": "object", "required": ["resourceType"]},
                },
            },
        },
    },
}
#: Successful answers that are not a marshmallow schema: media types, schemas and headers.
BODIES: dict[str, dict[int, Json]] = {
    "export.export_record": {
        200: {
            "description": "The whole record, streamed: JSON by default, a FHIR Bundle with "
            "`?format=fhir`.",
            "content": {
                "application/json": {"schema": EXPORT_JSON},
                "application/fhir+json": {"schema": EXPORT_FHIR},
            },
            "headers": {"Content-Disposition": "Content-Disposition"},
        }
    },
    "sessions.calendar_feed": {
        200: {
            "description": "The clinician's upcoming sessions as an iCalendar (RFC 5545) feed.",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
            "headers": {"Content-Disposition": "Content-Disposition"},
        }
    },
    "calendar.get_subscribed_calendar_feed": {
        200: {
            "description": "The clinician's upcoming sessions as an iCalendar (RFC 5545) feed.",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
            "headers": {"Content-Disposition": "Content-Disposition"},
        }
    },
}


class OperationDocs(BasePlugin):
    """Completes every operation as its path is added to the spec."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        self.spec = spec
        spec.components.schema(PROBLEM, PROBLEM_SCHEMA)
        for name, header in HEADERS.items():
            spec.components.header(name, header)
        for status in ERROR_STATUSES:
            spec.components.response(response_name(status), problem_response(status), lazy=True)
        for plugin in spec.plugins:
            if isinstance(plugin, MarshmallowPlugin) and plugin.converter is not None:
                for function in (
                    honest_strings,
                    rules_in_code(self.app),
                    nullable_nested,
                    partial_nested,
                ):
                    plugin.converter.add_attribute_function(function)  # type: ignore[no-untyped-call]

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        # flask-smorest's own error and pagination schemas go unused: errors are problems here,
        # and lists page with cursors.
        for unused in ("Error", "PaginationMetadata"):
            self.spec.components.schemas.pop(unused, None)
        rule = kwargs.get("rule")
        endpoint = rule.endpoint if rule is not None else ""
        view = self.app.view_functions.get(endpoint)
        for method, operation in (operations or {}).items():
            document_operation(operation, method=method, endpoint=endpoint, path=path, view=view)
            self.optional_empty_body(operation)

    def optional_empty_body(self, operation: Json) -> None:
        """A body whose fields are all optional may be left out: the parser reads it as `{}`."""
        body = operation.get("requestBody")
        if not isinstance(body, dict):
            return
        for media in body.get("content", {}).values():
            reference = media.get("schema", {}).get("$ref", "")
            component = self.spec.components.schemas.get(reference.rsplit("/", 1)[-1])
            if isinstance(component, Mapping) and not component.get("required"):
                body["required"] = False


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


def document_operation(
    operation: Json, *, method: str, endpoint: str, path: str | None, view: Any
) -> None:
    if view is not None:
        operation.setdefault("operationId", operation_id(view.__name__))
    responses: dict[Any, Any] = operation.setdefault("responses", {})
    responses.pop("default", None)
    parameters = [p for p in operation.get("parameters", []) if isinstance(p, dict)]
    rate_limited = RATE_LIMIT_HEADERS if endpoint in RATE_LIMITED else ()

    for parameter in parameters:
        rule = HEADER_PARAMETER_RULES.get(parameter.get("name", ""))
        if rule and parameter.get("in") == "header":
            parameter["schema"] = {**parameter.get("schema", {}), **rule}

    for status in list(responses):
        code = int(status)
        if code >= 400:
            continue
        response = responses[status] = deepcopy(responses[status])
        response.setdefault("description", HTTPStatus(code).phrase)
        headers = response.setdefault("headers", {})
        for name in ("X-Request-ID", *rate_limited):
            headers[name] = name
        if _has_parameter(parameters, IDEMPOTENCY_KEY):
            headers["Idempotent-Replayed"] = "Idempotent-Replayed"
        body = deepcopy(BODIES.get(endpoint, {}).get(code))
        if body is not None:
            headers.update(body.pop("headers", {}))
            response.update(body)

    # telehealth.guards (400, 414) and the argument parser (400).
    errors: dict[int, str | None] = {400: None, 414: None}
    if operation.get("security") != []:
        errors[401] = None
    if getattr(view, "allowed_roles", None):
        errors[403] = None
    if "{" in (path or ""):
        errors[404] = None
    if method in WRITE_METHODS:
        errors.update({413: None, 415: None})
    if "requestBody" in operation or any(p.get("in") == "query" for p in parameters):
        errors[422] = None
    if _has_parameter(parameters, "If-Match"):
        errors.update({412: None, 428: None})
    if _has_parameter(parameters, IDEMPOTENCY_KEY):
        errors[409] = "The first request with this Idempotency-Key is still running."
        errors[422] = "Invalid fields, or an Idempotency-Key already used with another body."
    if endpoint in RATE_LIMITED:
        errors[429] = None
    if endpoint not in NO_DATABASE:
        errors[503] = None
    errors.update(ENDPOINT_ERRORS.get(endpoint, {}))
    # An error the route documents itself stays, as a problem with the route's description.
    for status in list(responses):
        code = int(status)
        if code >= 400:
            described = responses.pop(status)
            if not errors.get(code) and isinstance(described, Mapping):
                errors[code] = described.get("description")
            errors.setdefault(code, None)

    for code, description in sorted(errors.items()):
        if description is None and not rate_limited:
            responses[code] = response_name(code)  # the shared component
        else:
            responses[code] = problem_response(code, description, rate_limited)


def operation_id(view_name: str) -> str:
    """A view's name in camelCase: `list_patient_checkins` -> `listPatientCheckins`. Views are
    named verb first, so generated clients get readable, stable method names."""
    first, *rest = view_name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _has_parameter(parameters: list[Json], name: str) -> bool:
    return any(str(p.get("name", "")).lower() == name.lower() for p in parameters)


# Characters Python's `str.strip()` removes (`str.isspace`), as an ECMA-262 class body.
_PY_SPACE = r"\t-\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
VISIBLE_TEXT = rf"^[^\u0000]*[^\u0000{_PY_SPACE}][^\u0000]*$"
ANY_TEXT = r"^[^\u0000]*$"


def honest_strings(converter: Any, field: fields.Field[Any], **kwargs: Any) -> Json:
    """A `Text` is trimmed (so one that must not be blank needs a visible character) and, like
    a field validated by `refuse_nul`, refuses NUL; Python's `\\Z` is ECMA-262's `$`."""
    ret: Json = kwargs.get("ret", {})
    if isinstance(field, Text):
        minimum = next((v.min for v in field.validators if hasattr(v, "min")), None)
        return {"pattern": VISIBLE_TEXT if minimum else ANY_TEXT}
    pattern = ret.get("pattern")
    if pattern is None and refuse_nul in field.validators:
        return {"pattern": ANY_TEXT}
    if isinstance(pattern, str) and pattern.endswith("\\Z"):
        return {"pattern": pattern[:-2] + "$"}
    return {}


@functools.cache
def time_zone_pattern() -> str:
    """Exactly the IANA names `zoneinfo` knows, as one pattern grouped by area (`Europe/...`):
    a client gets a plain string, not an enum of some 600 names."""
    areas: dict[str, list[str]] = {}
    for name in sorted(zoneinfo.available_timezones()):
        area, _, place = name.partition("/")
        areas.setdefault(area, []).append(place)

    def escape(text: str) -> str:
        return text.replace("+", r"\+")  # names hold letters, digits, / _ - and +

    alternatives = []
    for area, places in areas.items():
        named = "|".join(escape(place) for place in places if place)
        if not named:
            alternatives.append(escape(area))
        elif "" in places:
            alternatives.append(f"{escape(area)}(?:/(?:{named}))?")
        else:
            alternatives.append(f"{escape(area)}/(?:{named})")
    return "^(?:" + "|".join(alternatives) + ")$"


def rules_in_code(app: Flask) -> AttributeFunction:
    """Rules that validators and services check in code, for the fields they apply to."""

    def rules_in_code(converter: Any, field: fields.Field[Any], **kwargs: Any) -> Json:
        if validate_time_zone in field.validators:
            return {
                "pattern": time_zone_pattern(),
                "description": "An IANA time zone name known to the service's tz database.",
            }
        where = (type(field.parent).__name__ if field.parent else "", field.name)
        if where == ("CheckInIn", "instruments"):
            # checkins.schemas: each questionnaire's answer count and answer range.
            return {
                "properties": {
                    code: {
                        "type": "array",
                        "minItems": len(i.items),
                        "maxItems": len(i.items) + len(i.optional_items),
                        "items": {"type": "integer", "minimum": i.item_min, "maximum": i.item_max},
                    }
                    for code, i in INSTRUMENTS.items()
                },
                "additionalProperties": False,
            }
        if where in {
            ("ActivateIn", "password"),
            ("PasswordChangeIn", "new_password"),
            ("PasswordResetConfirmIn", "password"),
        }:
            # accounts.service.check_password_policy: long enough, and not only blanks.
            return {"minLength": app.config["PASSWORD_MIN_LENGTH"], "pattern": VISIBLE_TEXT}
        return {}

    return rules_in_code


def nullable_nested(converter: Any, field: fields.Field[Any], **kwargs: Any) -> Json:
    """A nested object that may be null: apispec writes `anyOf: [{type: object, nullable:
    true}, {$ref}]`, whose first branch admits any object at all; only null is meant."""
    branches = kwargs.get("ret", {}).get("anyOf")
    if not (isinstance(field, fields.Nested) and isinstance(branches, list)):
        return {}
    loose = {"type": "object", "nullable": True}
    only_null = {**loose, "enum": [None]}
    return {"anyOf": [only_null if branch == loose else branch for branch in branches]}


def partial_nested(converter: Any, field: fields.Field[Any], **kwargs: Any) -> Json:
    """A nested object of a schema loaded with `partial=True` (a PATCH) is partial too: any
    subset of its fields, as in a JSON merge patch, not the shared component."""
    if not (isinstance(field, fields.Nested) and getattr(field.parent, "partial", None) is True):
        return {}
    inline: Json = converter.schema2jsonschema(field.schema)
    inline.pop("required", None)
    ret: Json = kwargs.get("ret", {})
    ret.pop("$ref", None)  # the shared component, which requires its fields
    ret.pop("allOf", None)
    return inline
