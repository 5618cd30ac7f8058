from __future__ import annotations

from marshmallow import fields

from telehealth.outbound.models import EventType
from telehealth.pagination import PageQuery, page_schema
from telehealth.schemas import StrictSchema, UTCDateTime


class NotificationOut(StrictSchema):
    id = fields.UUID(required=True)
    kind = fields.Enum(
        EventType, by_value=True, required=True, metadata={"description": "The event it is about."}
    )
    title = fields.String(required=True)
    body = fields.String(required=True)
    created_at = UTCDateTime(required=True)
    read_at = UTCDateTime(allow_none=True, required=True)
    alert_id = fields.UUID(allow_none=True, required=True)
    session_id = fields.UUID(allow_none=True, required=True)


class NotificationQuery(PageQuery):
    pass


class ReadIn(StrictSchema):
    """No fields: reading is the whole request."""


NotificationPage = page_schema(NotificationOut, "NotificationPage")
