from __future__ import annotations

from marshmallow import fields

from telehealth.schemas import StrictSchema


class SubscribeIn(StrictSchema):
    """No fields: asking is the whole request."""


class SubscriptionOut(StrictSchema):
    url = fields.String(
        required=True,
        metadata={
            "description": "The secret feed URL to paste into a calendar app (or open as "
            "`webcal://`). Anyone holding it can read the feed, so it is shown only in this "
            "answer; subscribing again replaces it.",
            "example": "https://clinic.example.org/api/v1/calendar/feeds/"
            "q3Zk9V0c2yQeY3b8bQdJrLr2mE7vFh1xN4pS6tU8wA0.ics",
        },
    )
