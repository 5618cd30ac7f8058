"""Calendar subscription: a secret feed URL that calendar apps fetch without a header."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, url_for
from flask_smorest import Blueprint

from telehealth import context
from telehealth.accounts.models import Role
from telehealth.audit.context import audit_resource, audited
from telehealth.auth.roles import authenticated, me
from telehealth.calendar import service
from telehealth.calendar.schemas import SubscribeIn, SubscriptionOut
from telehealth.extensions import db, limiter
from telehealth.net import client_address
from telehealth.openapi.marks import FILE_NAME, RATE_LIMITED
from telehealth.sessions.calendar import (
    FEED_ANSWER,
    ICALENDAR,
    ICALENDAR_TYPE,
    feed_response,
)

blp = Blueprint("calendar", __name__, url_prefix="/api/v1", description="Calendar subscription")
#: The route of the secret feed. Logs and the audit trail name this template, never the path.
FEED = "/calendar/feeds/<secret>.ics"


def feed_url(secret: str) -> str:
    path = url_for("calendar.get_subscribed_calendar_feed", secret=secret)
    return str(current_app.config["PUBLIC_URL"]) + path


@blp.post("/calendar/subscription")
@audited("calendar.subscribe", "user")
@authenticated(Role.CLINICIAN)
@blp.arguments(SubscribeIn())
@blp.response(201, SubscriptionOut)
def create_calendar_subscription(_body: dict[str, Any]) -> dict[str, str]:
    """A secret URL of the caller's calendar feed, for Google Calendar, Outlook or Apple
    Calendar to subscribe to: they fetch it without any header. Asking again rotates it (the
    old URL answers 404 at once); `DELETE`, deactivation and a password change (which ends the
    other sign-ins) revoke it."""
    audit_resource(resource_id=me().id)
    return {"url": feed_url(service.subscribe(db.session, me()))}


@blp.delete("/calendar/subscription")
@audited("calendar.unsubscribe", "user")
@authenticated(Role.CLINICIAN)
@blp.response(204)
def revoke_calendar_subscription() -> None:
    """Revoke the caller's feed URL: it answers 404 from now on. Done already, nothing
    changes."""
    audit_resource(resource_id=me().id)
    service.revoke(db.session, me().id)


@blp.get(FEED)
@audited("calendar.feed", "session")
@limiter.limit(
    lambda: current_app.config["CALENDAR_FEED_RATE_LIMIT_PER_ADDRESS"], key_func=client_address
)
@blp.response(
    200, ICALENDAR, content_type=ICALENDAR_TYPE, description=FEED_ANSWER, headers=FILE_NAME
)
@blp.alt_response(
    404,
    description="The secret opens no feed: unknown, rotated, revoked, or its clinician "
    "deactivated.",
)
@blp.doc(security=[], **RATE_LIMITED)
def get_subscribed_calendar_feed(secret: str) -> Response:
    """The clinician's upcoming sessions as iCalendar, as `GET /calendar.ics` has them, for the
    secret in a subscription URL; no header needed. A secret that opens no feed (unknown,
    rotated, revoked, or its clinician deactivated) is 404. Limited per client address."""
    clinician = service.subscriber(db.session, secret)
    context.set_current_actor(clinician)  # the audit event and the request log name the clinician
    return feed_response(db.session, clinician)
