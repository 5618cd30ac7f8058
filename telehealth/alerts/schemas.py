from __future__ import annotations

from marshmallow import fields

from telehealth.alerts.models import AlertKind, AlertStatus
from telehealth.pagination import PageQuery, page_schema
from telehealth.schemas import StrictSchema, Text, UTCDateTime


class AlertOut(StrictSchema):
    id = fields.UUID(required=True)
    kind = fields.Enum(AlertKind, by_value=True, required=True)
    priority = fields.Integer(required=True, metadata={"description": "1 is the most urgent."})
    patient_id = fields.UUID(required=True)
    status = fields.Enum(AlertStatus, by_value=True, required=True)
    reason = fields.String(required=True)
    source_type = fields.String(required=True)
    source_id = fields.UUID(required=True)
    created_at = UTCDateTime(required=True)
    acknowledged_by = fields.UUID(attribute="acknowledged_by_id", allow_none=True, required=True)
    acknowledged_at = UTCDateTime(allow_none=True, required=True)
    note = fields.String(allow_none=True, required=True)


class AlertQuery(PageQuery):
    status = fields.Enum(AlertStatus, by_value=True, load_default=AlertStatus.OPEN)


class AcknowledgeIn(StrictSchema):
    note = Text(max_length=2000, min_length=0, allow_none=True)


AlertPage = page_schema(AlertOut, "AlertPage")
