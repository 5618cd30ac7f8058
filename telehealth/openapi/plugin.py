"""The apispec plugin that completes every operation as its blueprint is registered. All of it
follows from what the route declares: security, the roles of its view, path parameters, body,
query and header parameters, its own `alt_response`s and the marks of `telehealth.openapi.marks`
(rate-limited, no database):

- every error is an RFC 9457 problem, listed by status: 400, 401, 403, 404, 409, 412, 413, 414,
  415, 422, 428, 429 and 503 where they apply. There is no catch-all `default`: a status the
  document does not list is a bug. An error the route documents itself keeps the route's
  description;
- the headers: `X-Request-ID` on every answer, `WWW-Authenticate` on 401, `Retry-After` on 429
  and 503, the rate-limit headers of the rate-limited routes, `Idempotent-Replayed` where an
  Idempotency-Key is accepted, and those the route declares (`ETag`, `Content-Disposition`);
- a body whose fields are all optional may be left out (the argument parser reads it as `{}`).
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from http import HTTPStatus
from typing import Any

from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from telehealth.idempotency import _KEY as IDEMPOTENCY_KEY_PATTERN
from telehealth.idempotency import HEADER as IDEMPOTENCY_KEY
from telehealth.openapi.fields import honest_strings, nullable_nested, partial_nested, rules_in_code
from telehealth.openapi.marks import NO_DATABASE_KEY, RATE_LIMITED_KEY
from telehealth.openapi.problems import (
    ERROR_STATUSES,
    HEADERS,
    PROBLEM,
    PROBLEM_SCHEMA,
    RATE_LIMIT_HEADERS,
    problem_response,
    response_name,
)

Json = dict[str, Any]

#: Requests that may carry a body, which `telehealth.guards` checks (400, 413, 415).
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})

#: What the service accepts in its request headers (`telehealth.etags`, `.idempotency`).
HEADER_PARAMETER_RULES: dict[str, Json] = {
    "If-Match": {"minLength": 1},
    IDEMPOTENCY_KEY: {"pattern": IDEMPOTENCY_KEY_PATTERN.pattern},
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
            document_operation(operation, method=method, path=path, view=view)
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


def document_operation(operation: Json, *, method: str, path: str | None, view: Any) -> None:
    """Every status, header and problem the operation answers with, from what it declares."""
    if view is not None:
        operation.setdefault("operationId", operation_id(view.__name__))
    rate_limited = RATE_LIMIT_HEADERS if operation.pop(RATE_LIMITED_KEY, False) else ()
    uses_database = not operation.pop(NO_DATABASE_KEY, False)
    responses: dict[Any, Any] = operation.setdefault("responses", {})
    responses.pop("default", None)
    parameters = [p for p in operation.get("parameters", []) if isinstance(p, dict)]

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
        declared = response.setdefault("headers", {})
        # The route's own headers first, then the service's; shared components the route
        # names (`Content-Disposition`) last.
        headers = {name: h for name, h in declared.items() if not isinstance(h, str)}
        for name in ("X-Request-ID", *rate_limited):
            headers[name] = name
        if _has_parameter(parameters, IDEMPOTENCY_KEY):
            headers["Idempotent-Replayed"] = "Idempotent-Replayed"
        headers.update({name: h for name, h in declared.items() if isinstance(h, str)})
        response["headers"] = headers

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
    if rate_limited:
        errors[429] = None
    if uses_database:
        errors[503] = None
    # An error the route documents itself stays, as a problem with the route's description.
    for status in list(responses):
        code = int(status)
        if code >= 400:
            described = responses.pop(status)
            if isinstance(described, Mapping) and described.get("description"):
                errors[code] = described["description"]
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
