"""Who may reach which patient's record. `visible_patients` is the one place that decides
whose record a caller may reach; every area's queries build on it. The records themselves are
written in `records`, the care teams in `care_teams`."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, and_, bindparam, false, select
from sqlalchemy.orm import Session, selectinload

from telehealth.accounts.models import Role, User
from telehealth.errors import NotFound
from telehealth.pagination import ACTOR
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
