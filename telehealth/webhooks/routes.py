"""Webhooks for the clinic's systems, managed by admins."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint

from telehealth.accounts.models import Role
from telehealth.audit.context import audit_resource, audited
from telehealth.auth.roles import authenticated
from telehealth.extensions import db
from telehealth.pagination import PageQuery
from telehealth.webhooks import service
from telehealth.webhooks.schemas import (
    CreatedWebhookOut,
    DeliveryPage,
    WebhookDeliveryOut,
    WebhookIn,
    WebhookPage,
)

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1", description="Webhooks")


@blp.post("/webhooks")
@audited("webhook.create", "webhook")
@authenticated(Role.ADMIN)
@blp.arguments(WebhookIn())
@blp.response(201, CreatedWebhookOut)
def create_webhook(body: dict[str, Any]) -> Any:
    """Register an endpoint of the clinic's systems for some event types (`["*"]`: all). The
    answer carries the signing `secret`, shown only here. Each event is POSTed as
    `{"type", "timestamp", "data"}` (identifiers and codes only) with Standard Webhooks
    headers (`webhook-id`: the event's id, `webhook-timestamp`, `webhook-signature`); a 2xx
    answer is delivered, anything else is retried with growing delays for over a day. The URL
    must be https and reach only public addresses (422 naming `url` otherwise)."""
    created = service.create_webhook(db.session, **body)
    audit_resource(resource_id=created.id)
    return created


@blp.get("/webhooks")
@audited("webhook.list", "webhook")
@authenticated(Role.ADMIN)
@blp.arguments(PageQuery(), location="query")
@blp.response(200, WebhookPage)
def list_webhooks(query: dict[str, Any]) -> Any:
    """Registered endpoints, newest first (never their secrets)."""
    return service.list_webhooks(db.session, **query)


@blp.delete("/webhooks/<uuid:webhook_id>")
@audited("webhook.delete", "webhook", resource_arg="webhook_id")
@authenticated(Role.ADMIN)
@blp.response(204)
def delete_webhook(webhook_id: uuid.UUID) -> None:
    """Stop sending to an endpoint: nothing more goes out to it, its pending deliveries end as
    failed, and it is not found from then on. Its deliveries log is kept."""
    service.delete_webhook(db.session, webhook_id)


@blp.get("/webhooks/<uuid:webhook_id>/deliveries")
@audited("webhook.deliveries", "webhook", resource_arg="webhook_id")
@authenticated(Role.ADMIN)
@blp.arguments(PageQuery(), location="query")
@blp.response(200, DeliveryPage)
def list_webhook_deliveries(query: dict[str, Any], webhook_id: uuid.UUID) -> Any:
    """The endpoint's deliveries log, newest first: each event sent to it, whether it is
    `pending`, `delivered` or `failed`, the attempts made, the last status code and error,
    and when it is tried next."""
    return service.list_deliveries(db.session, webhook_id, **query)


@blp.post("/webhooks/<uuid:webhook_id>/deliveries/<uuid:delivery_id>/retry")
@audited("webhook.retry", "webhook", resource_arg="webhook_id")
@authenticated(Role.ADMIN)
@blp.response(202, WebhookDeliveryOut)
def retry_webhook_delivery(webhook_id: uuid.UUID, delivery_id: uuid.UUID) -> Any:
    """Send a delivery again now: a failed one is tried once more, a delivered one is sent
    again (same `webhook-id`, so the receiver can tell), a pending one goes at once."""
    return service.retry_delivery(db.session, webhook_id, delivery_id)
