from __future__ import annotations

from marshmallow import fields, validate

from telehealth.audit.models import Outcome
from telehealth.pagination import PageQuery, page_schema
from telehealth.schemas import StrictSchema, UTCDateTime, refuse_nul


class ActorOut(StrictSchema):
    id = fields.UUID(allow_none=True, required=True)
    name = fields.String(allow_none=True, required=True)
    role = fields.String(allow_none=True, required=True)


class AccessLogEntryOut(StrictSchema):
    id = fields.UUID(required=True)
    occurred_at = UTCDateTime(required=True)
    actor = fields.Nested(ActorOut, required=True)
    action = fields.String(required=True, metadata={"example": "patient.read"})
    resource_type = fields.String(required=True)
    resource_id = fields.String(allow_none=True, required=True)
    outcome = fields.Enum(Outcome, by_value=True, required=True)


class AuditEventOut(AccessLogEntryOut):
    patient_id = fields.UUID(allow_none=True, required=True)
    status_code = fields.Integer(required=True)
    client_address = fields.String(allow_none=True, required=True)
    request_id = fields.String(allow_none=True, required=True)
    sequence = fields.Integer(allow_none=True, required=True)
    hash = fields.String(allow_none=True, required=True)


class AuditQuery(PageQuery):
    actor_id = fields.UUID()
    patient_id = fields.UUID()
    action = fields.String(validate=[validate.Length(max=64), refuse_nul])
    outcome = fields.Enum(Outcome, by_value=True)
    from_ = UTCDateTime(data_key="from", metadata={"description": "At or after."})
    to = UTCDateTime(metadata={"description": "Before."})


AccessLogPage = page_schema(AccessLogEntryOut, "AccessLogPage")
AuditPage = page_schema(AuditEventOut, "AuditPage")
