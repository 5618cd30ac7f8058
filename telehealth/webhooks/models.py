"""Webhook endpoints. Their deliveries are rows of the shared deliveries log
(`telehealth.outbound.models.Delivery`, channel `webhook`, `target_id` the endpoint's id)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.db import Base, new_id, utcnow
from telehealth.webhooks.urls import MAX_URL_LENGTH

#: `events: ["*"]`: every public event, those added later included.
ALL_EVENTS = "*"


class WebhookEndpoint(Base):
    """Where to POST which events. Deleting one keeps the row (and its deliveries log) and
    stops every send to it: a deleted endpoint is not found by any route."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH))
    #: Public event types (`alert.raised`, ...), or `["*"]` for all of them.
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(String(500))
    #: The signing secret, `whsec_` + base64 (Standard Webhooks). Kept as it is, since signing
    #: needs it (an HMAC key cannot be stored hashed); shown once, when the endpoint is made.
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]

    def wants(self, event_type: str) -> bool:
        return ALL_EVENTS in self.events or event_type in self.events
