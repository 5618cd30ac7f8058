"""What reached a webhook receiver, each request verified with the endpoint's secret by the
`standardwebhooks` package, as a receiving system would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from standardwebhooks.webhooks import Webhook

from tests.webhooks.receiver import Receiver
from tests.worker.processes import wait_until


@dataclass(frozen=True)
class Event:
    """One verified request: its `webhook-id`, the status the receiver answered, the body."""

    id: str
    status: int
    type: str
    data: dict[str, Any]


def verified(receiver: Receiver, secret: str) -> list[Event]:
    """Every request so far, in order; a request whose signature does not verify fails."""
    webhook = Webhook(secret)
    events = []
    for request in list(receiver.requests):
        payload = webhook.verify(request.body, request.headers)  # raises when it does not verify
        events.append(
            Event(request.headers["webhook-id"], request.status, payload["type"], payload["data"])
        )
    return events


def accepted(receiver: Receiver, secret: str) -> dict[str, Event]:
    """The events the receiver accepted (answered 2xx), by `webhook-id`: duplicates of an
    event (at least once) count once, as a receiver deduplicating by id sees them."""
    return {event.id: event for event in verified(receiver, secret) if 200 <= event.status < 300}


def wait_for(
    receiver: Receiver,
    secret: str,
    match: Callable[[Event], bool],
    *,
    count: int = 1,
    timeout: float,
    what: str,
) -> list[Event]:
    """The accepted events that `match`, once there are `count` distinct ones."""

    def found() -> list[Event] | None:
        events = [event for event in accepted(receiver, secret).values() if match(event)]
        return events if len(events) >= count else None

    return wait_until(found, timeout=timeout, what=what)


def of(type_: str, **data: Any) -> Callable[[Event], bool]:
    """A match for events of `type_` whose data holds every `data` item."""
    return lambda event: (
        event.type == type_ and all(event.data.get(k) == v for k, v in data.items())
    )
