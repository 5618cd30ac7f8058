"""Registering, listing and deleting webhook endpoints; their deliveries log and the manual
retry. Every function takes the session and never commits."""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any

from flask import current_app
from sqlalchemy import Select, case, select, update
from sqlalchemy.orm import Session

from telehealth.db import new_id, table_of, utcnow
from telehealth.errors import NotFound, UnprocessableEntity
from telehealth.outbound.events import deliver_after_commit
from telehealth.outbound.models import Channel, Delivery, DeliveryStatus, OutboxEvent
from telehealth.pagination import Page, SortKey, keyset_page
from telehealth.webhooks.models import ALL_EVENTS, WebhookEndpoint
from telehealth.webhooks.urls import UrlRefused, check_url

#: Random bytes in a secret (Standard Webhooks asks for 24 to 64).
SECRET_BYTES = 32
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def allow_loopback() -> bool:
    return bool(current_app.config["WEBHOOK_ALLOW_LOOPBACK"])


def subscribed(events: list[str]) -> list[str]:
    """The stored form of a subscription: `["*"]` when it names "*", else each type once."""
    return [ALL_EVENTS] if ALL_EVENTS in events else sorted(set(events))


def create_webhook(
    session: Session, *, url: str, events: list[str], description: str | None = None
) -> WebhookEndpoint:
    """A new endpoint, read with its secret (the only time the secret is shown). A URL the
    service may not send to is 422 naming `url` (see `telehealth.webhooks.urls`)."""
    try:
        check_url(url, allow_loopback=allow_loopback())
    except UrlRefused as refused:
        raise UnprocessableEntity(
            "The webhook URL is not allowed.", errors={"url": str(refused)}
        ) from None
    endpoint = WebhookEndpoint(
        id=new_id(),
        url=url,
        events=subscribed(events),
        description=description or None,
        secret=new_secret(),
        created_at=utcnow(),
    )
    session.add(endpoint)
    session.flush()
    return endpoint


LIVE = select(WebhookEndpoint).where(WebhookEndpoint.deleted_at.is_(None))

WEBHOOK_ORDER = (
    SortKey(WebhookEndpoint.created_at, "created_at"),
    SortKey(WebhookEndpoint.id, "id"),
)


def list_webhooks(session: Session, *, limit: int, cursor: str | None = None) -> Page[Any]:
    """Endpoints not deleted, newest first."""
    return keyset_page(session, LIVE, WEBHOOK_ORDER, limit=limit, cursor=cursor, descending=True)


def get_webhook(session: Session, webhook_id: uuid.UUID, *, lock: bool = False) -> WebhookEndpoint:
    """An endpoint not deleted; 404 otherwise."""
    statement = LIVE.where(WebhookEndpoint.id == webhook_id)
    endpoint = session.scalar(statement.with_for_update() if lock else statement)
    if endpoint is None:
        raise NotFound("No such webhook.")
    return endpoint


def delete_webhook(session: Session, webhook_id: uuid.UUID) -> None:
    """Stop every send to the endpoint. Its row and deliveries log stay; its pending
    deliveries fail for good when the worker next takes them (the channel refuses a deleted
    endpoint), so a send already under way is still recorded."""
    get_webhook(session, webhook_id, lock=True).deleted_at = utcnow()
    session.flush()


# --- the deliveries log -------------------------------------------------------------------------

_deliveries = table_of(Delivery)

#: A delivery as the log shows it: with its event's type, and its next attempt only while it
#: has one.
DELIVERY_COLUMNS: Select[Any] = (
    select(
        _deliveries.c.id,
        _deliveries.c.event_id,
        table_of(OutboxEvent).c.type.label("event_type"),
        _deliveries.c.status,
        _deliveries.c.attempts,
        _deliveries.c.last_status_code,
        _deliveries.c.last_error,
        case(
            (_deliveries.c.status == DeliveryStatus.PENDING, _deliveries.c.next_attempt_at),
            else_=None,
        ).label("next_attempt_at"),
        _deliveries.c.delivered_at,
        _deliveries.c.created_at,
    )
    .join(OutboxEvent, OutboxEvent.id == _deliveries.c.event_id)
    .where(_deliveries.c.channel == Channel.WEBHOOK)
)

DELIVERY_ORDER = (
    SortKey(_deliveries.c.created_at, "created_at"),
    SortKey(_deliveries.c.id, "id"),
)


def list_deliveries(
    session: Session, webhook_id: uuid.UUID, *, limit: int, cursor: str | None = None
) -> Page[dict[str, Any]]:
    """The endpoint's deliveries, newest first (the (target_id, created_at, id) index)."""
    get_webhook(session, webhook_id)
    statement = DELIVERY_COLUMNS.where(_deliveries.c.target_id == webhook_id)
    return keyset_page(
        session, statement, DELIVERY_ORDER, limit=limit, cursor=cursor, descending=True, plain=True
    )


def retry_delivery(
    session: Session, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> dict[str, Any]:
    """Send a delivery again now, whatever became of it: a failed one gets another attempt,
    a delivered one is sent once more (a manual resend; same `webhook-id`), a pending one is
    due at once. Handed to the queue when the transaction commits."""
    get_webhook(session, webhook_id)
    changed = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.channel == Channel.WEBHOOK,
            Delivery.target_id == webhook_id,
        )
        .values(status=DeliveryStatus.PENDING, next_attempt_at=utcnow(), delivered_at=None)
        .returning(Delivery.id)
    ).scalar_one_or_none()
    if changed is None:
        raise NotFound("No such delivery of this webhook.")
    deliver_after_commit(session, delivery_id)
    [row] = session.execute(DELIVERY_COLUMNS.where(_deliveries.c.id == delivery_id)).mappings()
    return dict(row)
