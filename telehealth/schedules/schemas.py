from __future__ import annotations

import re
from datetime import time
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from telehealth.instruments.definitions import INSTRUMENTS
from telehealth.schedules.models import MOOD, Every
from telehealth.schemas import StrictBoolean, StrictSchema, UTCDateTime

ITEM_NAMES = [MOOD, *INSTRUMENTS]


#: `HH:MM`, 00:00 to 23:59, ASCII digits only; stated in the document as the field's pattern.
HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class WallClock(fields.Field[time]):
    """A local wall-clock time written `HH:MM` (00:00 to 23:59)."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string", "pattern": HH_MM.pattern, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value: time | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else value.strftime("%H:%M")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> time:
        if not isinstance(value, str) or not HH_MM.fullmatch(value):
            raise ValidationError("Must be a local time written HH:MM, e.g. 09:00.")
        return time(int(value[:2]), int(value[3:]))


class PlanItemSchema(StrictSchema):
    instrument = fields.String(
        required=True,
        validate=validate.OneOf(ITEM_NAMES),
        metadata={"description": '"mood" (the daily check-in) or an instrument code.'},
    )
    every = fields.Enum(Every, by_value=True, required=True)
    at = WallClock(
        required=True,
        metadata={"description": "Local time in the patient's zone, HH:MM.", "example": "09:00"},
    )
    weekday = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=0, max=6),
        metadata={"description": 'Monday 0 to Sunday 6; for "week" only.'},
    )
    day = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=1, max=28),
        metadata={"description": 'Day of the month, 1 to 28; for "month" only.'},
    )
    starts_on = fields.Date(
        allow_none=True,
        metadata={"description": "The first local day it applies; default today."},
    )

    @validates_schema
    def day_fits_every(self, data: dict[str, Any], **_: Any) -> None:
        every = data.get("every")
        if (every is Every.WEEK) != (data.get("weekday") is not None):
            raise ValidationError('Give a weekday for "week", and only for it.', "weekday")
        if (every is Every.MONTH) != (data.get("day") is not None):
            raise ValidationError('Give a day for "month", and only for it.', "day")


class PlanIn(StrictSchema):
    reminders = StrictBoolean(required=True)
    items = fields.List(
        fields.Nested(PlanItemSchema),
        required=True,
        validate=validate.Length(max=len(ITEM_NAMES)),
    )

    @validates_schema
    def one_item_each(self, data: dict[str, Any], **_: Any) -> None:
        names = [item["instrument"] for item in data.get("items", [])]
        if len(names) != len(set(names)):
            raise ValidationError("Each item at most once.", "items")


class PlanOut(StrictSchema):
    patient_id = fields.UUID(required=True)
    reminders = fields.Boolean(required=True)
    items = fields.List(fields.Nested(PlanItemSchema), required=True)
    updated_at = UTCDateTime(required=True)


class DueItemOut(StrictSchema):
    instrument = fields.String(required=True)
    due_at = UTCDateTime(required=True)
    due_at_local = fields.AwareDateTime(
        required=True, metadata={"description": "The due time in the patient's zone."}
    )
    status = fields.String(required=True, validate=validate.OneOf(["due", "missed"]))


class DueOut(StrictSchema):
    items = fields.List(fields.Nested(DueItemOut), required=True)
