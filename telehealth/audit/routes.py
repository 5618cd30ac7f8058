"""The audit trail, as a patient's access log and as the admins' full trail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_smorest import Blueprint

from telehealth.accounts.models import Role
from telehealth.audit import service
from telehealth.audit.context import audited
from telehealth.audit.models import AuditEvent, Outcome
from telehealth.audit.schemas import AccessLogPage, AuditPage, AuditQuery
from telehealth.auth.roles import authenticated, me
from telehealth.extensions import db
from telehealth.pagination import Page, PageQuery
from telehealth.patients.service import require_visible_patient

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Access log and audit")


@dataclass(frozen=True, slots=True)
class Entry:
    """An audit event as `AuditEventOut` writes it (`AccessLogEntryOut` writes fewer of its
    fields), with its actor spelled out."""

    id: uuid.UUID
    occurred_at: datetime
    actor: dict[str, Any]
    action: str
    resource_type: str
    resource_id: str | None
    outcome: Outcome
    patient_id: uuid.UUID | None
    status_code: int
    client_address: str | None
    request_id: str | None
    sequence: int | None
    hash: str | None

    @classmethod
    def of(cls, event: AuditEvent, actor_name: str | None) -> Entry:
        return cls(
            id=event.id,
            occurred_at=event.occurred_at,
            actor={"id": event.actor_id, "name": actor_name, "role": event.actor_role},
            action=event.action,
            resource_type=event.resource_type,
            resource_id=event.resource_id,
            outcome=event.outcome,
            patient_id=event.patient_id,
            status_code=event.status_code,
            client_address=event.client_address,
            request_id=event.request_id,
            sequence=event.sequence,
            hash=event.hash,
        )


def _with_actors(page: Page[AuditEvent]) -> Page[Entry]:
    names = service.actor_names(db.session, page.items)
    return Page(
        [
            Entry.of(event, names.get(event.actor_id) if event.actor_id else None)
            for event in page.items
        ],
        page.next_cursor,
    )


@blp.get("/patients/<uuid:patient_id>/access-log")
@audited("access_log.read", "access_log")
@authenticated()
@blp.arguments(PageQuery(), location="query")
@blp.response(200, AccessLogPage)
@blp.doc(operationId="listPatientAccessLog")
def access_log(query: dict[str, Any], patient_id: uuid.UUID) -> Any:
    """Who read or changed this patient's record, when and what, newest first. For the
    patient, their care team and admins; reading it is logged too."""
    visible = require_visible_patient(db.session, me(), patient_id)
    return _with_actors(service.access_log(db.session, visible, **query))


@blp.get("/audit")
@audited("audit.read", "audit")
@authenticated(Role.ADMIN)
@blp.arguments(AuditQuery(), location="query")
@blp.response(200, AuditPage)
@blp.doc(operationId="listAuditEvents")
def audit_trail(query: dict[str, Any]) -> Any:
    """The whole audit trail, newest first; filter by actor, patient, action, outcome, time."""
    return _with_actors(service.search(db.session, **query))
