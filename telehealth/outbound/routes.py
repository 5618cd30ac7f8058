"""The caller's in-app inbox."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint

from telehealth.auth.roles import authenticated, me
from telehealth.extensions import db
from telehealth.outbound import inbox
from telehealth.outbound.schemas import NotificationOut, NotificationPage, NotificationQuery, ReadIn

blp = Blueprint("inbox", __name__, url_prefix="/api/v1", description="The in-app inbox")


@blp.get("/me/notifications")
@authenticated()
@blp.arguments(NotificationQuery(), location="query")
@blp.response(200, NotificationPage)
def list_notifications(query: dict[str, Any]) -> Any:
    """The caller's inbox, newest first: alerts to review, escalations, reminders."""
    return inbox.list_notifications(db.session, me(), **query)


@blp.post("/me/notifications/<uuid:notification_id>/read")
@authenticated()
@blp.arguments(ReadIn(), required=False)
@blp.response(200, NotificationOut)
def read_notification(_body: dict[str, Any], notification_id: uuid.UUID) -> Any:
    """Mark one of the caller's notifications read (reading it again keeps the first time);
    anyone else's is 404."""
    return inbox.mark_read(db.session, me(), notification_id)
