from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telehealth.accounts.models import User
from telehealth.db import Base, new_id, utcnow


class TokenFamily(Base):
    """One sign-in: the chain of refresh tokens that rotate from one login.

    Only the newest refresh token of a family is valid (`current_jti`), and the one before it for
    a few seconds after it was spent (`REFRESH_REUSE_GRACE_SECONDS`). Presenting an older one
    means it was stolen or replayed, so the whole family is revoked. Access tokens name their
    family, so revoking it (logout, reuse, deactivation) stops them at once on every instance.
    """

    __tablename__ = "token_families"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    current_jti: Mapped[str] = mapped_column(String(64))
    #: The refresh token spent last, and when: presented again within the grace window (a phone
    #: retrying on a bad network) it answers the family's current pair instead of revoking it.
    previous_jti: Mapped[str | None] = mapped_column(String(64))
    rotated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[User] = relationship()
