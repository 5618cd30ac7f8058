from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telehealth.db import Base, TimestampMixin, new_id, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    CLINICIAN = "clinician"
    PATIENT = "patient"


def enum_column(enum_class: type[enum.Enum], name: str) -> Enum:
    """A portable enum: a short string with a CHECK constraint on SQLite and PostgreSQL."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )


class User(TimestampMixin, Base):
    """Anyone who signs in: an admin, a clinician or a patient."""

    __tablename__ = "users"
    __table_args__ = (
        # Emails are stored lower-cased, so the unique key is case-insensitive for every writer.
        CheckConstraint("email = lower(email)", name="email_lower"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    deactivated_at: Mapped[datetime | None]

    invitations: Mapped[list[Invitation]] = relationship(back_populates="user")

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class Invitation(Base):
    """A one-time token that lets a new user set their password; only its hash is kept."""

    __tablename__ = "invitations"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="invitations")
