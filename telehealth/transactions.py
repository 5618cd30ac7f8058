"""The request boundary: one commit per request, with its audit event in the same transaction.

A request that fails is rolled back, but its audit event is still written, because refused
attempts are part of the record (`ApiError.keep_changes` keeps the request's own writes too, for
failures that must change state, such as revoking a token family on refresh-token reuse).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g
from sqlalchemy.exc import DBAPIError

from telehealth.audit import chain
from telehealth.errors import handle_database_unavailable
from telehealth.extensions import db

log = logging.getLogger(__name__)


def finish_request(response: Response) -> Response:
    context = g.get("audit")
    if "db_session" not in g and context is None:
        return response
    session = db.session
    try:
        if response.status_code >= 400 and not g.get("keep_changes"):
            session.rollback()
        if context is not None:
            chain.append(session, context.event(response.status_code))
        session.commit()
    except DBAPIError as error:
        session.rollback()
        return handle_database_unavailable(error)
    return response


def register_transaction_boundary(app: Flask) -> None:
    app.after_request(finish_request)
