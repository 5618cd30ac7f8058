from __future__ import annotations

import functools
import zoneinfo
from datetime import date
from typing import Any

from marshmallow import ValidationError, fields, validate

from telehealth.accounts.schemas import InvitationToken, InvitedOut
from telehealth.pagination import PageQuery, page_schema
from telehealth.schemas import ContactSchema, EmailField, Name, StrictSchema, Text, UTCDateTime


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(name: str) -> None:
    if name not in _time_zones():
        raise ValidationError("Not an IANA time zone name (for example Europe/Berlin).")


def validate_birth_date(value: date) -> None:
    if not date(1900, 1, 1) <= value <= date.today():
        raise ValidationError("Must be a date between 1900-01-01 and today.")


class PatientDetails(StrictSchema):
    """What a patient's record says about them: set by `PatientIn`, changed by `PatientPatch`."""

    email = EmailField(required=True)
    name = Name(required=True)
    date_of_birth = fields.Date(required=True, validate=validate_birth_date)
    timezone = fields.String(
        required=True,
        validate=[validate.Length(max=64), validate_time_zone],
        metadata={"example": "America/New_York"},
    )
    emergency_contact = fields.Nested(ContactSchema, required=True)


class PatientIn(PatientDetails):
    clinician_id = fields.UUID(
        metadata={
            "description": "The patient's first clinician: an active clinician, who joins the "
            "care team, so that no patient is ever without one. Required when an admin creates "
            "the patient. A clinician who creates a patient joins the care team themself; the "
            "active clinician named here, if another, joins too."
        }
    )


class PatientPatch(PatientDetails):
    """The details of `PatientIn`, any subset of them (loaded with `partial=True`); the care
    team changes through its own routes."""


class CareTeamMemberOut(StrictSchema):
    id = fields.UUID(required=True, attribute="clinician.id")
    name = fields.String(required=True, attribute="clinician.name")
    email = fields.String(required=True, attribute="clinician.email")
    is_active = fields.Boolean(required=True, attribute="clinician.is_active")
    added_at = UTCDateTime(required=True)


class PatientOut(StrictSchema):
    id = fields.UUID(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    date_of_birth = fields.Date(required=True)
    timezone = fields.String(required=True)
    emergency_contact = fields.Nested(ContactSchema, required=True)
    is_active = fields.Boolean(required=True)
    care_team = fields.List(fields.Nested(CareTeamMemberOut), required=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)


class InvitedPatientOut(InvitedOut, PatientOut):
    invitation_token = InvitationToken("patient")


class PatientQuery(PageQuery):
    q = Text(max_length=200, metadata={"description": "Part of the patient's name."})


class CareTeamOut(StrictSchema):
    items = fields.List(fields.Nested(CareTeamMemberOut), required=True)


PatientPage = page_schema(PatientOut, "PatientPage")


def patient_changes(data: dict[str, Any]) -> dict[str, Any]:
    """Flatten the nested emergency contact into the model's columns. A PATCH loads it
    partially too, so only the parts sent change (as in a JSON merge patch)."""
    changes = dict(data)
    contact = changes.pop("emergency_contact", None) or {}
    for part in ("name", "phone"):
        if part in contact:
            changes[f"emergency_contact_{part}"] = contact[part]
    return changes
