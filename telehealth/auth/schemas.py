from __future__ import annotations

from marshmallow import fields, validate

from telehealth.schemas import StrictSchema, refuse_nul


class LoginIn(StrictSchema):
    # Any string: a malformed email is just another wrong email, answered with the same 401.
    email = fields.String(required=True, validate=[validate.Length(min=1, max=254), refuse_nul])
    password = fields.String(required=True, validate=[validate.Length(min=1, max=256), refuse_nul])


class ActivateIn(StrictSchema):
    token = fields.String(required=True, validate=[validate.Length(min=1, max=256), refuse_nul])
    password = fields.String(
        required=True,
        validate=[validate.Length(max=256), refuse_nul],
        metadata={"description": "At least 12 characters."},
    )


class RefreshIn(StrictSchema):
    refresh_token = fields.String(
        validate=[validate.Length(min=1, max=2048), refuse_nul],
        metadata={
            "description": "The refresh token, as OAuth clients send it; or leave the body out "
            "and send it as the bearer token."
        },
    )


class TokenPairOut(StrictSchema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(
        required=True, metadata={"description": "Seconds until the access token expires."}
    )
