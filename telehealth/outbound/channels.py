"""The contract every outbound channel keeps (email, webhooks): who an event goes to, how one
delivery is sent, and how long to wait before trying again. The worker does the rest: it makes
the deliveries, claims each before sending (so that of several workers one sends), sends with
no database transaction open, and records the outcome exactly once.

A channel registers itself in `CHANNELS` (see `telehealth.outbound.registry`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from telehealth.outbound.models import Channel, Delivery, OutboxEvent


@dataclass(frozen=True)
class Sent:
    """How one attempt went: delivered, or why not (no response body, no health data)."""

    delivered: bool
    status_code: int | None = None
    error: str | None = None
    #: Not worth trying again (the target is gone or not allowed): failed for good at once.
    final: bool = False


class OutboundChannel(Protocol):
    name: Channel

    @property
    def retry_delays(self) -> Sequence[timedelta]:
        """The wait before each retry: after the first failed attempt, the first; after the
        last one listed, the delivery is failed for good. (A property, so a channel may read
        it from the settings when asked; a plain class attribute does too.)"""
        ...

    def targets(self, session: Session, event: OutboxEvent) -> list[uuid.UUID]:
        """The ids of whom (or what) this event goes to on this channel; none to skip it."""
        ...

    def prepare(
        self, session: Session, delivery: Delivery, event: OutboxEvent
    ) -> Callable[[], Sent]:
        """Read what sending needs (an address, a secret) and return the send itself. The
        worker ends its transaction before calling it, so a slow peer holds no connection or
        lock; the send must not touch the database. A target that is gone (a deleted webhook,
        a deactivated user) returns a send that answers `Sent(False, error=...)` at once."""
        ...
