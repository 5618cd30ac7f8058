from __future__ import annotations

from typing import Any

from marshmallow import fields, missing, validate

from telehealth.pagination import PageQuery, page_schema
from telehealth.schemas import ContactSchema, StrictSchema, Text, UTCDateTime
from telehealth.sessions.models import Modality, SessionStatus


class SessionIn(StrictSchema):
    patient_id = fields.UUID(required=True)
    scheduled_start = UTCDateTime(
        required=True, metadata={"description": "RFC 3339 with an offset; stored in UTC."}
    )
    # strict: a fractional duration is refused, not silently truncated (90.5 -> 90).
    duration_minutes = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=15, max=480)
    )
    modality = fields.Enum(Modality, by_value=True, required=True)
    treatment_monitor = fields.Nested(
        ContactSchema,
        required=True,
        metadata={"description": "The adult present with the patient during the session."},
    )
    notes = Text(max_length=2000, min_length=0, allow_none=True)


class SessionPatch(StrictSchema):
    """Reschedule or edit a scheduled session; any subset of these fields."""

    scheduled_start = UTCDateTime()
    duration_minutes = fields.Integer(strict=True, validate=validate.Range(min=15, max=480))
    modality = fields.Enum(Modality, by_value=True)
    treatment_monitor = fields.Nested(ContactSchema)
    notes = Text(max_length=2000, min_length=0, allow_none=True)


class TransitionOut(StrictSchema):
    from_status = fields.Enum(SessionStatus, by_value=True, required=True)
    to_status = fields.Enum(SessionStatus, by_value=True, required=True)
    actor_id = fields.UUID(required=True)
    occurred_at = UTCDateTime(required=True)
    reason = fields.String(allow_none=True)


class SessionOut(StrictSchema):
    id = fields.UUID(required=True)
    patient_id = fields.UUID(required=True)
    clinician_id = fields.UUID(required=True)
    status = fields.Enum(SessionStatus, by_value=True, required=True)
    scheduled_start = UTCDateTime(required=True)
    scheduled_start_local = fields.AwareDateTime(
        required=True, metadata={"description": "The start in the patient's time zone."}
    )
    timezone = fields.String(required=True)
    scheduled_end = UTCDateTime(required=True)
    duration_minutes = fields.Integer(required=True)
    modality = fields.Enum(Modality, by_value=True, required=True)
    treatment_monitor = fields.Nested(ContactSchema, required=True)
    notes = fields.String(allow_none=True)
    medication_taken_at = UTCDateTime(allow_none=True, required=True)
    completion_reason = fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": "Why the session was completed without everything the rules ask "
            "for (the end-of-session checkpoint, signed notes); null otherwise."
        },
    )
    transitions = fields.List(fields.Nested(TransitionOut), required=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)


class OnlyWhenRead(fields.List[Any]):
    """A list the answer leaves out, rather than writing null, where it was not read."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return missing
        return super()._serialize(value, attr, obj, **kwargs)


class ListedSessionOut(SessionOut):
    """A session in a list: the same as one session, its history only when asked for."""

    transitions = OnlyWhenRead(
        fields.Nested(TransitionOut),
        metadata={
            "description": "The status history, oldest first: only with "
            "`include=transitions` (a single session always has it)."
        },
    )


#: What a session list can add to each session, on request.
TRANSITIONS = "transitions"


class SessionQuery(PageQuery):
    patient_id = fields.UUID()
    status = fields.Enum(SessionStatus, by_value=True)
    from_ = UTCDateTime(data_key="from", metadata={"description": "Starts at or after."})
    to = UTCDateTime(metadata={"description": "Starts before."})
    updated_since = UTCDateTime(metadata={"description": "Changed at or after."})
    include = fields.String(
        validate=validate.OneOf([TRANSITIONS]),
        metadata={
            "description": "`transitions`: give each session its status history, as a "
            "single session has it (without, a list leaves `transitions` out)."
        },
    )


class EmptyIn(StrictSchema):
    """No fields: the move is the whole request."""


class CancelIn(StrictSchema):
    reason = Text(max_length=500, required=True)


class CompleteIn(StrictSchema):
    reason = Text(
        max_length=500,
        metadata={
            "description": "Needed when something the rules ask for is missing (for example "
            "the patient was taken to emergency care before the end-of-session check); kept "
            "on the session."
        },
    )


class MissingOut(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(["checkpoint", "signature"]))
    checkpoint = fields.String(metadata={"description": "The checkpoint not recorded."})
    note_id = fields.UUID(metadata={"description": "The note not signed."})
    detail = fields.String(required=True)


class MedicationTakenIn(StrictSchema):
    taken_at = UTCDateTime(
        metadata={"description": "When the patient took it; default now. Never an amount."}
    )


SessionPage = page_schema(ListedSessionOut, "SessionPage")
