"""Per-request audit context: routes declare what they touch; the boundary writes the event."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from flask import request

from telehealth import context
from telehealth.audit.models import AuditEvent, Outcome
from telehealth.net import client_address

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class AuditContext:
    action: str
    resource_type: str
    resource_id: str | None = None
    patient_id: uuid.UUID | None = None

    def event(self, status_code: int) -> AuditEvent:
        actor = context.current_actor()
        return AuditEvent(
            actor_id=actor.id if actor is not None else None,
            actor_role=actor.role.value if actor is not None else None,
            action=self.action,
            resource_type=self.resource_type,
            resource_id=self.resource_id,
            patient_id=self.patient_id,
            outcome=outcome_for(status_code),
            status_code=status_code,
            client_address=client_address()[:64],
            request_id=context.request_id(),
        )


def outcome_for(status_code: int) -> Outcome:
    if status_code < 400:
        return Outcome.SUCCESS
    if status_code in (401, 403, 404):
        return Outcome.DENIED
    return Outcome.FAILED


def audited(
    action: str, resource_type: str, *, resource_arg: str | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Record one audit event for every call of the view, allowed or refused.

    A `patient_id` URL argument names the patient; a view that learns the patient later calls
    `audit_resource()`.

    The decorators of a route run top to bottom, so their order is part of what they mean;
    every route lists the ones it uses in this order (tests/foundation/test_route_decorators.py
    checks it):

    1. the route (`@blp.get(...)` and so on);
    2. `@audited`: first to run, so refusals by everything below are recorded too;
    3. `@authenticated` (telehealth.auth.roles): 401/403 before any limit, replay or body is
       looked at, and the caller known to what follows;
    4. `@limiter.limit`, as many as the route has;
    5. `@idempotent` (telehealth.idempotency): needs the caller, and must see the final
       response, so above the schema decorators;
    6. `@blp.arguments`, then `@blp.response`, `@blp.alt_response` and `@blp.doc`.
    """

    def begin() -> None:
        view_args = request.view_args or {}
        resource_id = view_args.get(resource_arg) if resource_arg else None
        patient_id = view_args.get("patient_id")
        context.set_audit(
            AuditContext(
                action=action,
                resource_type=resource_type,
                resource_id=str(resource_id) if resource_id is not None else None,
                patient_id=patient_id if isinstance(patient_id, uuid.UUID) else None,
            )
        )

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            begin()
            return view(*args, **kwargs)

        wrapper.audit_action = action  # type: ignore[attr-defined]
        # For refusals before the view runs (telehealth.guards), so they are recorded too.
        wrapper.audit_begin = begin  # type: ignore[attr-defined]
        return wrapper

    return decorator


def audit_resource(*, resource_id: Any = None, patient_id: uuid.UUID | None = None) -> None:
    """Fill in what the view learned while running (a new record's id, its patient)."""
    current = context.audit()
    if current is None:
        return
    if resource_id is not None:
        current.resource_id = str(resource_id)
    if patient_id is not None:
        current.patient_id = patient_id
