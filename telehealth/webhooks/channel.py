"""The webhook channel: each public event goes to every endpoint subscribed to it, as a signed
POST (Standard Webhooks), retried with growing delays for more than a day.

The body is `{"type", "timestamp", "data"}`, with `data` exactly the event's identifiers and
codes (never a name, answer, score, note or vital sign: `telehealth.outbound.events.emit`).
The headers are `webhook-id` (the event's id, the same on every retry and resend, so the
receiver can drop duplicates), `webhook-timestamp` and `webhook-signature` (`v1,` + base64
HMAC-SHA256 of `id.timestamp.body` under the endpoint's secret). Nothing of the answer is kept
but its status code.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import requests
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from telehealth.db import utcnow
from telehealth.outbound.channels import Sent
from telehealth.outbound.models import PUBLIC_EVENTS, Channel, Delivery, OutboxEvent
from telehealth.outbound.registry import register
from telehealth.webhooks.models import WebhookEndpoint
from telehealth.webhooks.urls import AddressNotAllowed, CheckedAdapter, UrlRefused, check_url

#: The waits before each retry, as Svix spaces them: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
#: Eight attempts over about 28 hours; after the last, the delivery is failed for good.
DEFAULT_RETRY_DELAYS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)

USER_AGENT = "Telehealth-Webhooks/1"


class WebhookChannel:
    name = Channel.WEBHOOK

    @property
    def retry_delays(self) -> Sequence[timedelta]:
        """`WEBHOOK_RETRY_DELAYS_SECONDS` when set (tests shorten it), else the default."""
        configured = current_app.config.get("WEBHOOK_RETRY_DELAYS_SECONDS")
        seconds = DEFAULT_RETRY_DELAYS if configured is None else configured
        return [timedelta(seconds=value) for value in seconds]

    def targets(self, session: Session, event: OutboxEvent) -> list[uuid.UUID]:
        """The live endpoints subscribed to the event's type; none for internal events."""
        if event.type not in PUBLIC_EVENTS:
            return []
        endpoints = session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.events)
            .where(WebhookEndpoint.deleted_at.is_(None))
            .order_by(WebhookEndpoint.id)
        )
        return [id_ for id_, events in endpoints if "*" in events or event.type in events]

    def prepare(
        self, session: Session, delivery: Delivery, event: OutboxEvent
    ) -> Callable[[], Sent]:
        endpoint = session.get(WebhookEndpoint, delivery.target_id)
        if endpoint is None or endpoint.deleted_at is not None:
            return lambda: Sent(False, error="endpoint deleted", final=True)
        config = current_app.config
        return Post(
            url=endpoint.url,
            secret=endpoint.secret,
            event_id=str(event.id),
            body={"type": str(event.type), "data": dict(event.data)},
            timeout=float(config["WEBHOOK_TIMEOUT_SECONDS"]),
            allow_loopback=bool(config["WEBHOOK_ALLOW_LOOPBACK"]),
        ).send


class Post:
    """One signed POST, made without the database (the worker's transaction is over)."""

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        event_id: str,
        body: dict[str, Any],
        timeout: float,
        allow_loopback: bool,
    ) -> None:
        self.url = url
        self.secret = secret
        self.event_id = event_id
        self.body = body
        self.timeout = timeout
        self.allow_loopback = allow_loopback

    def signed(self) -> tuple[bytes, dict[str, str]]:
        """The body (stamped now) and its headers."""
        now = utcnow()
        payload = json.dumps(
            {"type": self.body["type"], "timestamp": now.isoformat(), "data": self.body["data"]},
            separators=(",", ":"),
        ).encode()
        signature = Webhook(self.secret).sign(msg_id=self.event_id, timestamp=now, data=payload)
        return payload, {
            "webhook-id": self.event_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }

    def send(self) -> Sent:
        # Checked again now, not only when the endpoint was made: the name may resolve
        # elsewhere today, or the settings may have changed. The connection checks the address
        # it reaches as well (`telehealth.webhooks.urls`).
        try:
            check_url(self.url, allow_loopback=self.allow_loopback)
        except UrlRefused:
            return Sent(False, error="address not allowed", final=True)
        payload, headers = self.signed()
        with requests.Session() as http:
            http.trust_env = False  # no proxy or .netrc from the environment: straight there
            adapter = CheckedAdapter(allow_loopback=self.allow_loopback)
            http.mount("http://", adapter)
            http.mount("https://", adapter)
            try:
                response = http.post(
                    self.url,
                    data=payload,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,  # the body is never read
                )
            except AddressNotAllowed:
                return Sent(False, error="address not allowed", final=True)
            except requests.Timeout:
                return Sent(False, error=f"no answer within {self.timeout:g} s")
            except requests.exceptions.SSLError:
                return Sent(False, error="TLS failed")
            except requests.ConnectionError:
                return Sent(False, error="could not connect")
            except requests.RequestException:
                return Sent(False, error="the request failed")
            status = response.status_code
            response.close()
        if 200 <= status < 300:
            return Sent(True, status_code=status)
        return Sent(False, status_code=status, error=f"answered {status}")


#: The one webhook channel, in `telehealth.outbound.registry.CHANNELS` once this is imported.
CHANNEL = register(WebhookChannel())
