from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from telehealth.schemas import EmailField, StrictSchema, refuse_nul


def Password(**kwargs: Any) -> fields.String:  # noqa: N802 - reads as a field type
    """A password as sent: any characters but NUL, at most 256 of them."""
    return fields.String(required=True, validate=[validate.Length(max=256), refuse_nul], **kwargs)


class PasswordChangeIn(StrictSchema):
    current_password = Password()
    new_password = Password(metadata={"description": "At least 12 characters."})


class PasswordResetIn(StrictSchema):
    email = EmailField(required=True)


class PasswordResetConfirmIn(StrictSchema):
    token = fields.String(required=True, validate=[validate.Length(min=1, max=256), refuse_nul])
    password = Password(metadata={"description": "At least 12 characters."})


class PasswordResetRequestedOut(StrictSchema):
    detail = fields.String(required=True)
