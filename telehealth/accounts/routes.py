"""Clinician accounts, managed by admins."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint

from telehealth.accounts import service
from telehealth.accounts.models import Role
from telehealth.accounts.schemas import (
    ClinicianIn,
    ClinicianPage,
    ClinicianQuery,
    InvitedClinicianOut,
    UserOut,
)
from telehealth.audit.context import audit_resource, audited
from telehealth.auth.roles import authenticated, me
from telehealth.extensions import db

blp = Blueprint("clinicians", __name__, url_prefix="/api/v1", description="Clinician accounts")


@blp.post("/clinicians")
@audited("clinician.create", "user")
@authenticated(Role.ADMIN)
@blp.arguments(ClinicianIn())
@blp.response(201, InvitedClinicianOut)
@blp.alt_response(409, description="An account with this email already exists.")
def create_clinician(body: dict[str, str]) -> Any:
    """Create a clinician, invited by email (when email is configured); outside production
    the answer also carries the one-time invitation token."""
    invited = service.create_clinician(db.session, **body)
    audit_resource(resource_id=invited.record.id)
    return invited


@blp.post("/users/<uuid:user_id>/deactivate")
@audited("user.deactivate", "user", resource_arg="user_id")
@authenticated(Role.ADMIN)
@blp.response(200, UserOut)
@blp.alt_response(
    409,
    description="Admins cannot deactivate their own account; a clinician who is the last active "
    "clinician of a patient stays active until another joins (`patient_ids` names "
    "them).",
)
def deactivate_user(user_id: uuid.UUID) -> Any:
    """Offboard a clinician or patient: tokens stop working at once, sign-in is refused,
    nothing is deleted, and care-team lists show them as inactive. A clinician who is some
    patient's last active clinician stays active until another joins the care team (409)."""
    user = service.deactivate(db.session, me(), user_id)
    if user.role is Role.PATIENT:
        audit_resource(patient_id=user.id)
    return user


@blp.get("/clinicians")
@authenticated(Role.ADMIN)
@blp.arguments(ClinicianQuery(), location="query")
@blp.response(200, ClinicianPage)
def list_clinicians(query: dict[str, Any]) -> Any:
    """Clinicians, by name."""
    return service.list_users(db.session, role=Role.CLINICIAN, **query)
