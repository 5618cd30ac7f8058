"""Care teams. A care team is never empty: every patient has at least one active clinician on
it. A patient is created with one, the last active clinician cannot be removed, and a clinician
who is some patient's last active one cannot be deactivated
(`refuse_leaving_patients_unwatched`); each refusal is a 409 naming the patients
(`patient_ids`), and the checks run under the patient rows' locks so that concurrent changes
cannot together break the rule."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Exists, Select, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from telehealth.accounts.models import Role, User
from telehealth.errors import Conflict, NotFound
from telehealth.patients.models import CareTeamMember, Patient
from telehealth.patients.service import get_managed_patient


def is_active_clinician(user: type[User]) -> ColumnElement[bool]:
    return and_(user.role == Role.CLINICIAN, user.is_active.is_(True))


def _active_clinician(session: Session, clinician_id: uuid.UUID) -> User:
    clinician = session.scalar(
        select(User).where(User.id == clinician_id, is_active_clinician(User))
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
        is_active_clinician(clinician),
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
