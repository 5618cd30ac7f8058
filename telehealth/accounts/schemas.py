from __future__ import annotations

from marshmallow import fields

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


class InvitedClinicianOut(ClinicianOut):
    invitation_token = fields.String(
        required=True, metadata={"description": "Shown once; the clinician activates with it."}
    )


class ClinicianQuery(PageQuery):
    pass


ClinicianPage = page_schema(ClinicianOut, "ClinicianPage")
