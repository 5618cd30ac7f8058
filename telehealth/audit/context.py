"""Per-request audit context: routes declare what they touch; the boundary writes the event."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from flask import g, request

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
        actor = g.get("current_actor")
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
            request_id=g.get("request_id"),
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

    Put it right under the route decorator so that refusals by authentication and validation
    are recorded too. A `patient_id` URL argument names the patient; a view that learns the
    patient later calls `audit_patient()`.
    """

    def begin() -> None:
        view_args = request.view_args or {}
        resource_id = view_args.get(resource_arg) if resource_arg else None
        patient_id = view_args.get("patient_id")
        g.audit = AuditContext(
            action=action,
            resource_type=resource_type,
            resource_id=str(resource_id) if resource_id is not None else None,
            patient_id=patient_id if isinstance(patient_id, uuid.UUID) else None,
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
    context: AuditContext | None = g.get("audit")
    if context is None:
        return
    if resource_id is not None:
        context.resource_id = str(resource_id)
    if patient_id is not None:
        context.patient_id = patient_id
