from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from telehealth.monitoring.models import (
    SIDE_EFFECTS,
    VITAL_RANGES,
    Checkpoint,
    Dissociation,
    Severity,
)
from telehealth.pagination import PageQuery, page_schema
from telehealth.schemas import StrictBoolean, StrictFloat, StrictSchema, Text, UTCDateTime


def _vital(name: str, *, decimal: bool = False) -> fields.Number[Any]:
    low, high = VITAL_RANGES[name]
    options: dict[str, Any] = dict(
        allow_none=True,
        validate=validate.Range(min=low, max=high),
        metadata={"description": f"Accepted range {low}-{high}."},
    )
    if decimal:
        return StrictFloat(**options)
    # Strict: a non-strict Integer truncates 300.5 to 300, accepting a value outside the range.
    return fields.Integer(strict=True, **options)


class VitalsSchema(StrictSchema):
    systolic = _vital("systolic")
    diastolic = _vital("diastolic")
    heart_rate = _vital("heart_rate")
    spo2 = _vital("spo2")
    respiratory_rate = _vital("respiratory_rate")
    temperature = _vital("temperature", decimal=True)

    @validates_schema
    def systolic_above_diastolic(self, data: dict[str, Any], **_kwargs: Any) -> None:
        systolic, diastolic = data.get("systolic"), data.get("diastolic")
        if systolic is not None and diastolic is not None and systolic <= diastolic:
            raise ValidationError("Must be above the diastolic pressure.", "systolic")


class AdverseEventSchema(StrictSchema):
    description = Text(max_length=2000, required=True)
    severity = fields.Enum(Severity, by_value=True, required=True)
    serious = StrictBoolean(required=True)
    emergency_care = StrictBoolean(required=True)
    action_taken = Text(max_length=2000, min_length=0, allow_none=True)


class NoteIn(StrictSchema):
    checkpoint = fields.Enum(Checkpoint, by_value=True, allow_none=True)
    observed_at = UTCDateTime(required=True)
    vitals = fields.Nested(VitalsSchema)
    sedation = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=0, max=5),
        metadata={"description": "MOAA/S: 5 responds readily to name, 0 no response to pain."},
    )
    dissociation = fields.Enum(Dissociation, by_value=True, allow_none=True)
    side_effects = fields.List(
        fields.String(validate=validate.OneOf(SIDE_EFFECTS)),
        validate=validate.Length(max=len(SIDE_EFFECTS)),
    )
    adverse_event = fields.Nested(AdverseEventSchema, allow_none=True)
    text = Text(max_length=10000, required=True)


class SignIn(StrictSchema):
    """No fields: signing is the whole request (a stray field, such as a dose, is refused)."""


class AmendmentIn(StrictSchema):
    text = Text(max_length=10000, required=True)
    reason = Text(max_length=500, required=True)


class AmendmentOut(StrictSchema):
    id = fields.UUID(required=True)
    text = fields.String(required=True)
    reason = fields.String(required=True)
    author_id = fields.UUID(required=True)
    created_at = UTCDateTime(required=True)


class VitalsOut(StrictSchema):
    systolic = fields.Integer(allow_none=True)
    diastolic = fields.Integer(allow_none=True)
    heart_rate = fields.Integer(allow_none=True)
    spo2 = fields.Integer(allow_none=True)
    respiratory_rate = fields.Integer(allow_none=True)
    temperature = fields.Float(allow_none=True)


class NoteOut(StrictSchema):
    id = fields.UUID(required=True)
    session_id = fields.UUID(required=True)
    patient_id = fields.UUID(required=True)
    author_id = fields.UUID(required=True)
    checkpoint = fields.Enum(Checkpoint, by_value=True, allow_none=True, required=True)
    observed_at = UTCDateTime(required=True)
    vitals = fields.Nested(VitalsOut, required=True)
    sedation = fields.Integer(allow_none=True, required=True)
    dissociation = fields.Enum(Dissociation, by_value=True, allow_none=True, required=True)
    side_effects = fields.List(fields.String(), required=True)
    adverse_event = fields.Nested(AdverseEventSchema, allow_none=True, required=True)
    text = fields.String(required=True)
    created_at = UTCDateTime(required=True)
    signed_at = UTCDateTime(allow_none=True, required=True)
    amendments = fields.List(fields.Nested(AmendmentOut), required=True)


class CheckpointOut(StrictSchema):
    name = fields.Enum(Checkpoint, by_value=True, required=True)
    due_at = UTCDateTime(allow_none=True, required=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(["pending", "done", "late", "overdue"]),
        metadata={
            "description": "pending: not yet recorded and not yet overdue; done: recorded in "
            "time; late: recorded after its due time plus grace; overdue: past due plus grace "
            "with no note recording it."
        },
    )
    note_id = fields.UUID(allow_none=True, required=True)
    observed_at = UTCDateTime(
        allow_none=True, required=True, metadata={"description": "When the note observed it."}
    )


class TimelineOut(StrictSchema):
    session_id = fields.UUID(required=True)
    medication_taken_at = UTCDateTime(allow_none=True, required=True)
    checkpoints = fields.List(fields.Nested(CheckpointOut), required=True)


class NoteQuery(PageQuery):
    pass


NotePage = page_schema(NoteOut, "NotePage")
