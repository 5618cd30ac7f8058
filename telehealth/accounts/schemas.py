from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import current_app
from marshmallow import fields, missing, post_dump, pre_dump

from telehealth.accounts.models import Role
from telehealth.pagination import PageQuery, page_schema
from telehealth.schemas import EmailField, Name, StrictSchema, UTCDateTime

if TYPE_CHECKING:
    from telehealth.accounts.service import Invited


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


class InvitedOut(StrictSchema):
    """Mixed into a record's output schema that adds an `invitation_token` field, to write an
    `Invited` pair: the record as that schema writes it, then the token (as its field says)."""

    dump_hooks = True

    @pre_dump
    def record(self, invited: Invited[Any], **_kwargs: Any) -> Any:
        return invited.record

    @post_dump(pass_original=True)
    def with_token(
        self, data: dict[str, Any], invited: Invited[Any], **_kwargs: Any
    ) -> dict[str, Any]:
        token = self.fields["invitation_token"].serialize("invitation_token", invited)
        if token is not missing:
            data["invitation_token"] = token
        return data


class InvitedClinicianOut(InvitedOut, ClinicianOut):
    invitation_token = InvitationToken("clinician")


class ClinicianQuery(PageQuery):
    pass


ClinicianPage = page_schema(ClinicianOut, "ClinicianPage")
