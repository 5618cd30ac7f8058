"""Records for tests, made through the services so they obey the same rules as the API."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import time_machine
from flask import Flask
from sqlalchemy.orm import Session

from telehealth.accounts import service as accounts
from telehealth.accounts.models import Role, User
from telehealth.accounts.passwords import hash_password
from telehealth.auth.tokens import issue_tokens
from telehealth.extensions import db
from telehealth.patients import records
from telehealth.patients.models import Patient

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


@dataclass
class Actor:
    """A signed-in user as a test sees them: the record and ready-made request headers."""

    user: User
    access_token: str
    refresh_token: str

    @property
    def id(self) -> str:
        return str(self.user.id)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def _unique(label: str) -> str:
    return f"{label}{next(_numbers)}@example.test"


def _session(app: Flask) -> Session:
    return app.extensions["database"]["factory"]()


def make_user(app: Flask, role: Role, *, name: str | None = None, email: str | None = None) -> User:
    with app.app_context(), db.begin() as session:
        if role is Role.ADMIN:
            user = accounts.create_admin(
                session,
                email=email or _unique("admin"),
                name=name or "Ada Admin",
                password=PASSWORD,
            )
        else:
            user = accounts.create_clinician(
                session, email=email or _unique("clinician"), name=name or "Dr. Cole"
            ).record
            user.password_hash = hash_password(PASSWORD)
        return user


def make_patient(
    app: Flask, clinician: User | None, *, name: str = "Pat Doe", **fields: Any
) -> Patient:
    """A patient with an activated account, on `clinician`'s care team. With None, an admin
    creates the patient for a clinician of their own ("Dr. Staff", on no other team), since a
    care team is never empty."""
    with app.app_context(), db.begin() as session:
        creator = clinician
        if creator is None:
            creator = accounts.create_admin(
                session, email=_unique("creator"), name="Creator", password=PASSWORD
            )
            fields.setdefault(
                "clinician_id",
                accounts.create_clinician(
                    session, email=_unique("staff"), name="Dr. Staff"
                ).record.id,
            )
        patient = records.create_patient(
            session,
            session.merge(creator),
            email=fields.pop("email", _unique("patient")),
            name=name,
            date_of_birth=fields.pop("date_of_birth", date(1980, 1, 2)),
            timezone=fields.pop("timezone", "America/New_York"),
            emergency_contact=fields.pop(
                "emergency_contact", {"name": "Em Contact", "phone": "+1 555 0100"}
            ),
            clinician_id=fields.pop("clinician_id", None),
        ).record
        patient.user.password_hash = hash_password(PASSWORD)
        return patient


def sign_in(app: Flask, user: User) -> Actor:
    with app.app_context(), db.begin() as session:
        pair = issue_tokens(session, session.merge(user))
    return Actor(user, pair.access_token, pair.refresh_token)


class FrozenClock:
    """A clock frozen by `frozen`, moved only by the test; `headers` signs an actor in at the
    current (travelled) time, since tokens issued at another time are not valid now."""

    def __init__(self, app: Flask, traveller: Any) -> None:
        self.app = app
        self.traveller = traveller

    def move_to(self, moment: datetime) -> None:
        self.traveller.move_to(moment)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def headers(self, actor: Actor) -> dict[str, str]:
        return sign_in(self.app, actor.user).headers


@contextmanager
def frozen(app: Flask, moment: datetime) -> Iterator[FrozenClock]:
    with time_machine.travel(moment, tick=False) as traveller:
        yield FrozenClock(app, traveller)
