"""Patients and care teams. `visible_patients` is the one place that decides whose record a
caller may reach; every area's queries build on it.

A care team is never empty: every patient has at least one active clinician on it. A patient
is created with one, the last active clinician cannot be removed, and a clinician who is some
patient's last active one cannot be deactivated (`refuse_leaving_patients_unwatched`); each
refusal is a 409 naming the patients (`patient_ids`), and the checks run under the patient
rows' locks so that concurrent changes cannot together break the rule."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Exists, Select, and_, bindparam, false, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, selectinload

from telehealth.accounts.models import Role, User
from telehealth.accounts.service import Invited, invite, new_user
from telehealth.db import utcnow
from telehealth.errors import Conflict, Forbidden, NotFound, Unauthorized, UnprocessableEntity
from telehealth.etags import require_if_match
from telehealth.pagination import ACTOR, Page, SortKey, keyset_page
from telehealth.patients.models import CareTeamMember, Patient
from telehealth.schedules.defaults import add_default_plan


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
        .where(User.id.in_(wanted), _is_active_clinician(User))
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


def _is_active_clinician(user: type[User]) -> ColumnElement[bool]:
    return and_(user.role == Role.CLINICIAN, user.is_active.is_(True))


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
        select(User).where(User.id == clinician_id, _is_active_clinician(User))
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
    # Asked afresh now that the patient row is locked (not of the loaded care team): a
    # removal or a deactivation that committed while this request waited is seen here.
    if not session.scalar(select(_has_active_clinician(patient.id, other_than=clinician_id))):
        raise _left_unwatched(
            [patient.id], "Removing this clinician would leave {} without an active clinician"
        )
    patient.care_team.remove(member)
    session.flush()


def refuse_leaving_patients_unwatched(session: Session, clinician_id: uuid.UUID) -> None:
    """409 when the clinician is the last active clinician of any patient (before deactivating
    them).

    The rows of the clinician's patients are locked first (FOR UPDATE, in id order, as a
    care-team change locks its one patient row before it counts), so a concurrent removal
    either finishes before the count here or counts after this request commits."""
    session.scalars(
        select(Patient.id)
        .where(Patient.id.in_(_patients_of(clinician_id)))
        .order_by(Patient.id)
        .with_for_update(of=Patient)
    ).all()
    unwatched = session.scalars(
        select(CareTeamMember.patient_id)
        .where(
            CareTeamMember.clinician_id == clinician_id,
            ~_has_active_clinician(CareTeamMember.patient_id, other_than=clinician_id),
        )
        .order_by(CareTeamMember.patient_id)
    ).all()
    if unwatched:
        raise _left_unwatched(
            list(unwatched),
            "Deactivating this clinician would leave {} without an active clinician",
        )


def patients_without_active_clinician(session: Session) -> list[uuid.UUID]:
    """The ids of patients with no active clinician on their care team (which the rules above
    never allow; for `flask care-teams check`), in id order."""
    return list(
        session.scalars(
            select(Patient.id).where(~_has_active_clinician(Patient.id)).order_by(Patient.id)
        )
    )


def _patients_of(clinician_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(CareTeamMember.patient_id).where(CareTeamMember.clinician_id == clinician_id)


def _has_active_clinician(
    patient_id: uuid.UUID | InstrumentedAttribute[uuid.UUID],
    *,
    other_than: uuid.UUID | None = None,
) -> Exists:
    """Whether the patient has an active clinician on the care team (besides `other_than`)."""
    member = aliased(CareTeamMember)
    clinician = aliased(User)
    condition = and_(
        member.patient_id == patient_id,
        clinician.id == member.clinician_id,
        _is_active_clinician(clinician),
    )
    if other_than is not None:
        condition = and_(condition, member.clinician_id != other_than)
    return select(member.patient_id).where(condition).exists()


#: How many patient ids a refusal's `detail` spells out; `patient_ids` carries them all.
DETAIL_IDS = 10


def _left_unwatched(patient_ids: list[uuid.UUID], what: str) -> Conflict:
    """The refusal of a change that would leave patients without an active clinician: their
    ids (never names or health data) in `detail` and as `patient_ids`."""
    ids = [str(patient_id) for patient_id in patient_ids]
    named = ", ".join(ids[:DETAIL_IDS])
    if len(ids) > DETAIL_IDS:
        named += f" and {len(ids) - DETAIL_IDS} more (see patient_ids)"
    whom = f"patient {named}" if len(ids) == 1 else f"patients {named}"
    return Conflict(
        f"{what.format(whom)}; add another active clinician to the care team first.",
        extensions={"patient_ids": ids},
    )
