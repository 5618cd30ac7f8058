"""Access tokens for the load, minted directly instead of through the rate-limited login."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bench import reference_app

#: Patients whose tokens the check-in POST rotates through, so no one record grows much.
POSTING_PATIENTS = 50


@dataclass
class ServiceTokens:
    clinician: str
    admin: str
    busy_patient: str
    patients: list[str]
    #: One check-in of the busy patient, for the single-read target.
    checkin_id: str


@dataclass
class ReferenceTokens:
    busy_owner: str
    owners: list[str]


def as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def service_tokens(
    settings: dict[str, Any], manifest: dict[str, Any], lifetime: timedelta
) -> ServiceTokens:
    """`issue_tokens` in the service's own app context (production settings plus `settings`),
    one fresh token family per user, as a sign-in would create.

    The lifetime is stretched to cover the run: the service checks a token the same way
    whatever its expiry, and the default 15 minutes would end mid-run.
    """
    from sqlalchemy import select

    from config import load_config
    from telehealth import create_app
    from telehealth.accounts.models import User
    from telehealth.auth.tokens import issue_tokens
    from telehealth.checkins.models import MoodCheckIn
    from telehealth.extensions import db

    app = create_app(load_config("production", JWT_ACCESS_TOKEN_EXPIRES=lifetime, **settings))
    busy_patient = as_uuid(manifest["busy_patient_id"])
    with app.app_context():
        try:
            with db.begin() as session:

                def token(user_id: Any) -> str:
                    user = session.get_one(User, as_uuid(user_id))
                    return issue_tokens(session, user).access_token

                checkin_id = session.scalar(
                    select(MoodCheckIn.id)
                    .where(MoodCheckIn.patient_id == busy_patient)
                    .order_by(MoodCheckIn.recorded_at.desc())
                    .limit(1)
                )
                return ServiceTokens(
                    clinician=token(manifest["busy_clinician_id"]),
                    admin=token(manifest["admin_id"]),
                    busy_patient=token(busy_patient),
                    patients=[token(p) for p in manifest["patient_ids"][:POSTING_PATIENTS]],
                    checkin_id=str(checkin_id),
                )
        finally:
            db.engine.dispose()


def reference_tokens(secret: str, database_url: str, lifetime: timedelta) -> ReferenceTokens:
    """Tokens signed with the reference app's own secret: its busy owner, and as many owners
    as the service's posting patients."""
    app = reference_app.create_app(database_url, secret)
    owners = [reference_app.owner_id(index) for index in range(1, POSTING_PATIENTS + 1)]
    return ReferenceTokens(
        busy_owner=reference_app.mint_token(app, reference_app.BUSY_OWNER, lifetime),
        owners=[reference_app.mint_token(app, owner, lifetime) for owner in owners],
    )
