"""The audit trail, as a patient's access log and as the admins' full trail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask_smorest import Blueprint

from telehealth.accounts.models import Role
from telehealth.audit import service
from telehealth.audit.context import audited
from telehealth.audit.models import AuditEvent
from telehealth.audit.schemas import AccessLogPage, AuditPage, AuditQuery
from telehealth.auth.roles import authenticated, me
from telehealth.extensions import db
from telehealth.pagination import Page, PageQuery
from telehealth.patients.service import require_visible_patient

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Access log and audit")


@dataclass
class Entry:
    """An audit event with its actor spelled out; reads as the event for the schema."""

    event: AuditEvent
    actor: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.event, name)


def _with_actors(page: Page[AuditEvent]) -> Page[Entry]:
    names = service.actor_names(db.session, page.items)
    return Page(
        [
            Entry(
                event,
                {
                    "id": event.actor_id,
                    "name": names.get(event.actor_id) if event.actor_id else None,
                    "role": event.actor_role,
                },
            )
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
