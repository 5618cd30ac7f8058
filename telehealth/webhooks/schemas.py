from __future__ import annotations

from marshmallow import fields, validate

from telehealth.outbound.models import PUBLIC_EVENTS, DeliveryStatus
from telehealth.pagination import page_schema
from telehealth.schemas import StrictSchema, Text, UTCDateTime, refuse_nul
from telehealth.webhooks.models import ALL_EVENTS
from telehealth.webhooks.urls import MAX_URL_LENGTH

#: What `events` may name: each public event type, or "*" for all of them.
EVENT_CHOICES = [ALL_EVENTS, *sorted(PUBLIC_EVENTS)]


class WebhookIn(StrictSchema):
    url = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=MAX_URL_LENGTH), refuse_nul],
        metadata={
            "description": "Where to POST the events: an https URL whose host resolves to public "
            "addresses only (development and test also allow http and loopback). Refused "
            "otherwise, naming `url`.",
            "example": "https://paging.example.org/telehealth",
        },
    )
    events = fields.List(
        fields.String(validate=validate.OneOf(EVENT_CHOICES)),
        required=True,
        validate=validate.Length(min=1, max=len(EVENT_CHOICES)),
        metadata={
            "description": 'The event types to send, or `["*"]` for every one (those added later '
            "too).",
            "example": ["alert.raised", "alert.escalated"],
        },
    )
    description = Text(max_length=500, min_length=0, allow_none=True)


class WebhookOut(StrictSchema):
    id = fields.UUID(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    description = fields.String(allow_none=True, required=True)
    created_at = UTCDateTime(required=True)


class CreatedWebhookOut(WebhookOut):
    secret = fields.String(
        required=True,
        metadata={
            "description": "The signing secret (`whsec_` + base64), shown only in this answer: "
            "verify each delivery's `webhook-signature` with it (Standard Webhooks).",
            "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        },
    )


class WebhookDeliveryOut(StrictSchema):
    id = fields.UUID(required=True)
    event_id = fields.UUID(
        required=True, metadata={"description": "The event's id: the `webhook-id` header."}
    )
    event_type = fields.String(required=True, metadata={"example": "alert.raised"})
    status = fields.Enum(DeliveryStatus, by_value=True, required=True)
    attempts = fields.Integer(required=True)
    last_status_code = fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "The receiver's last HTTP status; null if it never answered."},
    )
    last_error = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "What went wrong last (no response body is kept)."},
    )
    next_attempt_at = UTCDateTime(
        allow_none=True,
        required=True,
        metadata={"description": "When it is tried next, while pending; else null."},
    )
    delivered_at = UTCDateTime(allow_none=True, required=True)
    created_at = UTCDateTime(required=True)


WebhookPage = page_schema(WebhookOut, "WebhookPage")
DeliveryPage = page_schema(WebhookDeliveryOut, "WebhookDeliveryPage")
