from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telehealth.accounts.models import User
from telehealth.db import Base, TimestampMixin, utcnow


class Patient(TimestampMixin, Base):
    """A patient's record. Its id is the patient's user id, so one UUID names the person."""

    __tablename__ = "patients"

    id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    date_of_birth: Mapped[date]
    timezone: Mapped[str] = mapped_column(String(64))
    emergency_contact_name: Mapped[str] = mapped_column(String(200))
    emergency_contact_phone: Mapped[str] = mapped_column(String(32))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # Optimistic concurrency: the ETag of a patient is its version.
    version: Mapped[int] = mapped_column(default=1)

    user: Mapped[User] = relationship(foreign_keys=[id], lazy="joined", innerjoin=True)
    care_team: Mapped[list[CareTeamMember]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="CareTeamMember.added_at"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def is_active(self) -> bool:
        return self.user.is_active

    @property
    def emergency_contact(self) -> dict[str, str]:
        return {"name": self.emergency_contact_name, "phone": self.emergency_contact_phone}


class CareTeamMember(Base):
    """A clinician on a patient's care team: who may see and act on the patient's record."""

    __tablename__ = "care_team_members"
    __table_args__ = (
        # "Which patients are mine?" is the question every clinician query asks.
        Index("ix_care_team_members_clinician_patient", "clinician_id", "patient_id"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    clinician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    patient: Mapped[Patient] = relationship(back_populates="care_team")
    clinician: Mapped[User] = relationship(foreign_keys=[clinician_id], lazy="joined")
