"""The request boundary: one commit per request, with its audit event in the same transaction.

A request that fails is rolled back, but its audit event is still written, because refused
attempts are part of the record (`ApiError.keep_changes` keeps the request's own writes too, for
failures that must change state, such as revoking a token family on refresh-token reuse).
"""

from __future__ import annotations

import logging

from flask import Flask, Response
from sqlalchemy.exc import DBAPIError

from telehealth import context
from telehealth.audit import chain
from telehealth.errors import handle_database_unavailable
from telehealth.extensions import db

log = logging.getLogger(__name__)


def finish_request(response: Response) -> Response:
    audit = context.audit()
    if context.db_session() is None and audit is None:
        return response
    session = db.session
    try:
        if response.status_code >= 400 and not context.keep_changes():
            session.rollback()
        if audit is not None:
            chain.append(session, audit.event(response.status_code))
        session.commit()
    except DBAPIError as error:
        session.rollback()
        return handle_database_unavailable(error)
    return response


def register_transaction_boundary(app: Flask) -> None:
    app.after_request(finish_request)
