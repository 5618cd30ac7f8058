"""Patients and care teams. `visible_patients` is the one place that decides whose record a
caller may reach; every area's queries build on it."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, bindparam, false, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from telehealth.accounts.models import Role, User
from telehealth.accounts.service import Invited, invite, new_user
from telehealth.db import utcnow
from telehealth.errors import Conflict, NotFound
from telehealth.etags import require_if_match
from telehealth.pagination import ACTOR, Page, SortKey, keyset_page
from telehealth.patients.models import CareTeamMember, Patient


def visible_patient_ids(actor: User) -> Select[uuid.UUID]:
    """The ids of the patients `actor` may see: admin all, clinician their care teams', a
    patient their own."""
    return _visible_ids(actor.role, actor.id)


def _visible_ids(role: Role, actor_id: Any) -> Select[uuid.UUID]:
    if role is Role.ADMIN:
        return select(Patient.id)
    if role is Role.CLINICIAN:
        return select(CareTeamMember.patient_id).where(CareTeamMember.clinician_id == actor_id)
    return select(Patient.id).where(Patient.id == actor_id)


def visible_patient_ids_of(role: Role) -> Select[uuid.UUID]:
    """`visible_patient_ids` for any caller of `role`, the caller's id bound as `ACTOR`:
    for statements built once."""
    return _visible_ids(role, bindparam(ACTOR))


#: Per role, built once (every read of a patient's data runs one): the patient's id if the
#: caller may see the record.
VISIBLE_PATIENT = {
    role: select(Patient.id).where(
        Patient.id == bindparam("patient_id"), Patient.id.in_(visible_patient_ids_of(role))
    )
    for role in Role
}


def visible_patients(actor: User) -> Select[Patient]:
    statement = select(Patient).options(selectinload(Patient.care_team))
    if actor.role is Role.CLINICIAN:
        return statement.join(
            CareTeamMember,
            and_(CareTeamMember.patient_id == Patient.id, CareTeamMember.clinician_id == actor.id),
        )
    if actor.role is Role.PATIENT:
        return statement.where(Patient.id == actor.id)
    return statement


def care_team_patients(actor: User) -> Select[Patient]:
    """Patients whose record `actor` may change: their care team's (admin: all)."""
    if actor.role is Role.PATIENT:
        return select(Patient).where(false())
    return visible_patients(actor)


def get_patient(session: Session, actor: User, patient_id: uuid.UUID) -> Patient:
    patient = session.scalar(visible_patients(actor).where(Patient.id == patient_id))
    if patient is None:
        raise NotFound("No such patient.")
    return patient


def require_visible_patient(session: Session, actor: User, patient_id: uuid.UUID) -> uuid.UUID:
    """404 unless `actor` may see the patient's record: one narrow query, for routes that
    read the patient's data but not the record itself."""
    visible = session.scalar(
        VISIBLE_PATIENT[actor.role], {"patient_id": patient_id, ACTOR: actor.id}
    )
    if visible is None:
        raise NotFound("No such patient.")
    return visible


def get_managed_patient(session: Session, actor: User, patient_id: uuid.UUID) -> Patient:
    """A patient whose record `actor` may change, locked until the request commits so that
    concurrent changes (edits, care-team moves) apply one after the other."""
    patient = session.scalar(
        care_team_patients(actor).where(Patient.id == patient_id).with_for_update(of=Patient)
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
) -> Invited[Patient]:
    """A patient account and record; a clinician who creates it joins the care team."""
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
    if actor.role is Role.CLINICIAN:
        patient.care_team.append(CareTeamMember(clinician=actor, added_by_id=actor.id))
    session.add(patient)
    session.flush()
    return Invited(patient, invite(session, user))


def update_patient(
    session: Session, actor: User, patient_id: uuid.UUID, changes: dict[str, Any]
) -> Patient:
    patient = get_managed_patient(session, actor, patient_id)
    require_if_match(patient.version)
    for field in ("name", "email"):
        if field in changes:
            setattr(patient.user, field, changes.pop(field))
    for field, value in changes.items():
        setattr(patient, field, value)
    # Touch the patient row so its version (the ETag) moves even when only the user row changed.
    patient.updated_at = utcnow()
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(
            "An account with this email already exists.", errors={"email": "Already in use."}
        ) from None
    return patient


def _active_clinician(session: Session, clinician_id: uuid.UUID) -> User:
    clinician = session.scalar(
        select(User).where(
            User.id == clinician_id, User.role == Role.CLINICIAN, User.is_active.is_(True)
        )
    )
    if clinician is None:
        raise NotFound("No such active clinician.")
    return clinician


def add_to_care_team(
    session: Session, actor: User, patient_id: uuid.UUID, clinician_id: uuid.UUID
) -> list[CareTeamMember]:
    """Put a clinician on the care team; doing it again changes nothing."""
    patient = get_managed_patient(session, actor, patient_id)
    clinician = _active_clinician(session, clinician_id)
    if all(member.clinician_id != clinician.id for member in patient.care_team):
        patient.care_team.append(CareTeamMember(clinician=clinician, added_by_id=actor.id))
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            # Added concurrently by someone else: the outcome asked for holds.
            session.expire(patient, ["care_team"])
    return list(patient.care_team)


def remove_from_care_team(
    session: Session, actor: User, patient_id: uuid.UUID, clinician_id: uuid.UUID
) -> None:
    patient = get_managed_patient(session, actor, patient_id)
    member = next((m for m in patient.care_team if m.clinician_id == clinician_id), None)
    if member is None:
        raise NotFound("That clinician is not on this patient's care team.")
    if len(patient.care_team) == 1:
        raise Conflict("A patient's care team keeps at least one clinician; add another first.")
    patient.care_team.remove(member)
    session.flush()
