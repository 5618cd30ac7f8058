from __future__ import annotations

from typing import Any

from marshmallow import fields, missing, post_load, validate

from telehealth.alerts.models import MAX_ESCALATION_LEVEL, AlertKind, AlertSource, AlertStatus
from telehealth.monitoring.models import Checkpoint
from telehealth.pagination import PageQuery, page_schema
from telehealth.schemas import StrictSchema, Text, UTCDateTime

#: `status=all`: acknowledged and open alerts alike.
ALL = "all"


class OfTheRecord(fields.Nested):
    """A nested object made of fields of the record itself (`source: {type, id}` from
    `source_type` and `source_id`): the nested schema reads the whole record, so an ORM object
    and a page's plain row give the same answer."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return obj


class AlertSourceOut(StrictSchema):
    type = fields.String(
        attribute="source_type",
        required=True,
        metadata={
            "description": "What raised the alert, and where to read it: `checkin` "
            "(GET /checkins/{id}), `monitoring_note` (GET /notes/{id}), `session` "
            "(GET /sessions/{id}; an overdue checkpoint).",
            "example": AlertSource.CHECKIN.value,
        },
    )
    id = fields.UUID(attribute="source_id", required=True)


class AlertOut(StrictSchema):
    id = fields.UUID(required=True)
    kind = fields.Enum(AlertKind, by_value=True, required=True)
    priority = fields.Integer(
        required=True,
        metadata={
            "description": "1 is the most urgent: suicidal_ideation 1, adverse_event 2, "
            "checkpoint_overdue 3, vital_sign 4, severe_score 5, deterioration 6, "
            "missed_checkins 7."
        },
    )
    patient_id = fields.UUID(required=True)
    status = fields.Enum(AlertStatus, by_value=True, required=True)
    reason = fields.String(required=True)
    source = OfTheRecord(
        AlertSourceOut,
        required=True,
        metadata={"description": "The record that raised the alert: open it in one step."},
    )
    source_type = fields.String(
        required=True, metadata={"description": "The same as `source.type`."}
    )
    source_id = fields.UUID(required=True, metadata={"description": "The same as `source.id`."})
    session_id = fields.UUID(
        allow_none=True,
        required=True,
        metadata={"description": "The session the trigger came from; null if none did."},
    )
    checkpoint = fields.Enum(
        Checkpoint,
        by_value=True,
        allow_none=True,
        required=True,
        metadata={"description": "The overdue checkpoint (`checkpoint_overdue`); else null."},
    )
    escalation_level = fields.Integer(
        required=True,
        metadata={
            "description": "0 until the alert goes unacknowledged for too long; 1: the care "
            f"team notified again; {MAX_ESCALATION_LEVEL}: the clinic's admins notified."
        },
    )
    escalated_at = UTCDateTime(allow_none=True, required=True)
    created_at = UTCDateTime(required=True)
    acknowledged_by = fields.UUID(attribute="acknowledged_by_id", allow_none=True, required=True)
    acknowledged_at = UTCDateTime(allow_none=True, required=True)
    note = fields.String(allow_none=True, required=True)


class AlertQuery(PageQuery):
    status = fields.String(
        load_default=AlertStatus.OPEN.value,
        validate=validate.OneOf([*AlertStatus, ALL]),
        metadata={"description": "`open` (the default), `acknowledged`, or `all`."},
    )
    patient_id = fields.UUID(
        metadata={"description": "One patient's alerts; a patient you may not see is 404."}
    )
    kind = fields.Enum(AlertKind, by_value=True, metadata={"description": "One kind of alert."})

    @post_load
    def all_is_no_status_filter(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["status"] = None if data["status"] == ALL else AlertStatus(data["status"])
        return data


class AcknowledgeIn(StrictSchema):
    note = Text(max_length=2000, min_length=0, allow_none=True)


AlertPage = page_schema(AlertOut, "AlertPage")
