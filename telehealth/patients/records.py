"""Patient records: listing them, creating a patient (account, record, first care team and
default check-in plan), and changing a record, by the care team or by the patient."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from telehealth.accounts.models import Role, User
from telehealth.accounts.service import Invited, flush_unique_email, invite, new_user
from telehealth.db import utcnow
from telehealth.errors import Forbidden, NotFound, Unauthorized, UnprocessableEntity
from telehealth.etags import require_if_match
from telehealth.pagination import Page, SortKey, keyset_page
from telehealth.patients.care_teams import is_active_clinician
from telehealth.patients.models import CareTeamMember, Patient
from telehealth.patients.service import get_managed_patient, visible_patients
from telehealth.schedules.defaults import add_default_plan


def _own_record(session: Session, actor: User, patient_id: uuid.UUID) -> Patient:
    """The patient's own record, locked as `get_managed_patient` locks one; anyone else's is
    not found."""
    patient = session.scalar(
        visible_patients(actor).where(Patient.id == patient_id).with_for_update(of=Patient)
    )
    if patient is None:
        raise NotFound("No such patient.")
    return patient


def list_patients(
    session: Session, actor: User, *, limit: int, cursor: str | None = None, q: str | None = None
) -> Page[Patient]:
    statement = visible_patients(actor).join(Patient.user)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(User.name.ilike(f"%{escaped}%", escape="\\"))
    return keyset_page(
        session,
        statement,
        [SortKey(User.name, "user.name"), SortKey(Patient.id, "id")],
        limit=limit,
        cursor=cursor,
    )


def create_patient(
    session: Session,
    actor: User,
    *,
    email: str,
    name: str,
    date_of_birth: date,
    timezone: str,
    emergency_contact: dict[str, str],
    clinician_id: uuid.UUID | None = None,
) -> Invited[Patient]:
    """A patient account and record, with a care team that starts with the clinician named by
    `clinician_id` (an admin must name one) and a clinician who creates it."""
    first_team = _first_care_team(session, actor, clinician_id)
    user = new_user(session, role=Role.PATIENT, email=email, name=name)
    patient = Patient(
        id=user.id,
        user=user,
        date_of_birth=date_of_birth,
        timezone=timezone,
        emergency_contact_name=emergency_contact["name"],
        emergency_contact_phone=emergency_contact["phone"],
        created_by_id=actor.id,
    )
    for clinician in first_team:
        patient.care_team.append(CareTeamMember(clinician=clinician, added_by_id=actor.id))
    session.add(patient)
    session.flush()
    add_default_plan(session, patient)
    session.flush()
    return Invited(patient, invite(session, user))


def _first_care_team(session: Session, actor: User, clinician_id: uuid.UUID | None) -> list[User]:
    """The active clinicians a new patient's care team starts with: the one named and a
    creating clinician. Their rows stay locked (FOR SHARE) until the request commits, so a
    concurrent deactivation of one of them waits and then sees the new patient, or has already
    happened and the clinician is no longer found."""
    wanted = {clinician_id} if clinician_id is not None else set()
    if actor.role is Role.CLINICIAN:
        wanted.add(actor.id)
    elif clinician_id is None:
        raise UnprocessableEntity(
            "An admin names the new patient's first clinician.",
            errors={"clinician_id": "Required when an admin creates a patient."},
        )
    active = session.scalars(
        select(User)
        .where(User.id.in_(wanted), is_active_clinician(User))
        .order_by(User.id)
        .with_for_update(read=True)
    ).all()
    found = {clinician.id for clinician in active}
    if clinician_id is not None and clinician_id not in found:
        raise UnprocessableEntity(
            "No such active clinician.", errors={"clinician_id": "No such active clinician."}
        )
    if actor.role is Role.CLINICIAN and actor.id not in found:
        # Deactivated while this request ran: its token is no longer good either.
        raise Unauthorized("A valid access token is required.")
    # The creator first, then the clinician named.
    return sorted(active, key=lambda clinician: clinician.id != actor.id)


#: What a patient may change on their own record. The rest is the care team's (or an admin's):
#: the email is the account's sign-in, and the name and date of birth say who the patient is.
PATIENT_MAY_CHANGE = frozenset({"timezone", "emergency_contact_name", "emergency_contact_phone"})


def update_patient(
    session: Session,
    actor: User,
    patient_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: str | None,
) -> Patient:
    """Change a record (`changes` as `patient_changes` flattens them; `if_match`, the
    If-Match header's value): the care team and admins any detail, the patient their own time
    zone and emergency contact (403 naming the other fields). A new time zone moves the
    reminders not yet sent, which the scheduler places in the patient's zone when it runs."""
    if actor.role is Role.PATIENT:
        patient = _own_record(session, actor, patient_id)
        refused = sorted(set(changes) - PATIENT_MAY_CHANGE)
        if refused:
            raise Forbidden(
                "Only the care team or an admin may change " + ", ".join(refused) + ".",
                errors={
                    field: "Only the care team or an admin may change this." for field in refused
                },
            )
    else:
        patient = get_managed_patient(session, actor, patient_id)
    require_if_match(patient.version, if_match)
    for field in ("name", "email"):
        if field in changes:
            setattr(patient.user, field, changes.pop(field))
    for field, value in changes.items():
        setattr(patient, field, value)
    # Touch the patient row so its version (the ETag) moves even when only the user row changed.
    patient.updated_at = utcnow()
    flush_unique_email(session)
    return patient
