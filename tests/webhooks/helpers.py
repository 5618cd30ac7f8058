"""Helpers of the webhook tests: endpoints and deliveries made straight through the services, a
name resolver that never asks DNS, and a loopback port nobody listens on."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterable
from contextlib import closing
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from telehealth.db import new_id, utcnow
from telehealth.extensions import db
from telehealth.outbound.models import Channel, Delivery, EventType, OutboxEvent
from telehealth.webhooks import service
from tests.factories import Actor

API = "/api/v1"
WEBHOOKS = f"{API}/webhooks"


def resolver(names: dict[str, Iterable[str]] | None = None) -> Callable[..., Any]:
    """A stand-in for `socket.getaddrinfo` in `telehealth.webhooks.urls`: IP literals and
    `localhost` as the system resolves them (neither asks DNS), the `names` given as mapped,
    and every other name unknown. Tests patch it in so no external name is ever looked up:

        monkeypatch.setattr("telehealth.webhooks.urls.getaddrinfo", resolver({...}))
    """
    mapped = {name: list(addresses) for name, addresses in (names or {}).items()}

    def getaddrinfo(host: str, port: Any, family: int = 0, type: int = 0, *rest: Any) -> Any:
        if host in mapped:
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (address, port),
                )
                for address in mapped[host]
            ]
        if host == "localhost":
            return socket.getaddrinfo(host, port, family, type)
        return socket.getaddrinfo(host, port, family, type, 0, socket.AI_NUMERICHOST)

    return getaddrinfo


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_webhook(
    app: Flask, url: str, events: list[str] | None = None, description: str | None = None
) -> tuple[uuid.UUID, str]:
    """An endpoint (id, secret), made through the service under the app's settings."""
    with app.app_context(), db.begin() as session:
        created = service.create_webhook(
            session, url=url, events=events or ["*"], description=description
        )
        return created.id, created.secret


def make_event(
    app: Flask,
    type: EventType = EventType.ALERT_RAISED,
    data: dict[str, Any] | None = None,
) -> OutboxEvent:
    """An outbox event, not fanned out (the test hands it to the channel itself)."""
    with app.app_context(), db.begin() as session:
        event = OutboxEvent(
            id=new_id(),
            type=type,
            data=data if data is not None else {"alert_id": str(uuid.uuid4()), "priority": 1},
            recipients=[],
            created_at=utcnow(),
            fanned_out_at=utcnow(),
        )
        session.add(event)
        return event


def make_delivery(app: Flask, webhook_id: uuid.UUID, event: OutboxEvent | None = None) -> str:
    """A pending webhook delivery of `event` (a new alert.raised by default); its id."""
    event = event or make_event(app)
    with app.app_context(), db.begin() as session:
        delivery = Delivery(
            id=new_id(),
            event_id=event.id,
            channel=Channel.WEBHOOK,
            target_id=webhook_id,
            created_at=utcnow(),
            next_attempt_at=utcnow(),
        )
        session.add(delivery)
        return str(delivery.id)


def register(client: FlaskClient, admin: Actor, **body: Any) -> Any:
    """POST /webhooks as `admin`; the response."""
    body.setdefault("events", ["*"])
    return client.post(WEBHOOKS, json=body, headers=admin.headers)
