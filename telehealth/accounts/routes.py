"""Clinician accounts, managed by admins."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from telehealth.accounts import service
from telehealth.accounts.models import Role
from telehealth.accounts.schemas import (
    ClinicianIn,
    ClinicianPage,
    ClinicianQuery,
    InvitedClinicianOut,
)
from telehealth.audit.context import audit_resource, audited
from telehealth.auth.roles import authenticated
from telehealth.extensions import db

blp = Blueprint("clinicians", __name__, url_prefix="/api/v1", description="Clinician accounts")


@blp.post("/clinicians")
@audited("clinician.create", "user")
@authenticated(Role.ADMIN)
@blp.arguments(ClinicianIn)
@blp.response(201, InvitedClinicianOut)
def create_clinician(body: dict[str, str]) -> Any:
    """Create a clinician; the answer carries a one-time invitation token."""
    invited = service.create_clinician(db.session, **body)
    audit_resource(resource_id=invited.id)
    return invited


@blp.get("/clinicians")
@authenticated(Role.ADMIN)
@blp.arguments(ClinicianQuery, location="query")
@blp.response(200, ClinicianPage)
def list_clinicians(query: dict[str, Any]) -> Any:
    """Clinicians, by name."""
    return service.list_users(db.session, role=Role.CLINICIAN, **query)
