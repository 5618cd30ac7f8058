from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import fields, missing

from telehealth.accounts.models import Role
from telehealth.pagination import PageQuery, page_schema
from telehealth.schemas import EmailField, Name, StrictSchema, UTCDateTime


class UserOut(StrictSchema):
    id = fields.UUID(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.Enum(Role, by_value=True, required=True)
    is_active = fields.Boolean(required=True)
    created_at = UTCDateTime(required=True)


class ClinicianIn(StrictSchema):
    email = EmailField(required=True)
    name = Name(required=True)


class ClinicianOut(StrictSchema):
    id = fields.UUID(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    is_active = fields.Boolean(required=True)
    created_at = UTCDateTime(required=True)


class InvitationToken(fields.String):
    """A new account's one-time invitation token, written only where `RETURN_INVITATION_TOKEN`
    is on (development and test); in production the invited person gets it by email, and the
    answer leaves the field out."""

    def __init__(self, owner: str) -> None:
        super().__init__(
            metadata={
                "description": f"Shown once; the {owner} activates with it. Present only "
                f"outside production: there the invitation is emailed to the {owner} instead."
            }
        )

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if not current_app.config["RETURN_INVITATION_TOKEN"]:
            return missing
        return super()._serialize(value, attr, obj, **kwargs)


class InvitedClinicianOut(ClinicianOut):
    invitation_token = InvitationToken("clinician")


class ClinicianQuery(PageQuery):
    pass


ClinicianPage = page_schema(ClinicianOut, "ClinicianPage")
