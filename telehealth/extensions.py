"""Extension objects, created unbound; `create_app` binds them to an app.

Nothing here imports the app's own modules beyond the session manager and the client address:
`telehealth.errors` (and every module through it) may import from here, never the other way.
"""

from __future__ import annotations

import time

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_smorest import Api, Blueprint
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser

from telehealth.database import Database
from telehealth.net import client_address


class StrictQueryParser(FlaskParser):
    """Unknown query parameters are 422, like unknown body fields: webargs would otherwise
    drop them silently, so a misspelt filter (`?pateint_id=`) would list everything."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
        "querystring": RAISE,
    }


# Every blueprint of the API parses its arguments with this one parser.
Blueprint.ARGUMENTS_PARSER = StrictQueryParser()

db = Database()
migrate = Migrate()
jwt = JWTManager()
limiter = Limiter(key_func=client_address)
api = Api()


def retry_after_seconds() -> int:
    """Seconds until the limit this request hit lets the client in again (60 if unknown)."""
    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, int(limit.reset_at - time.time()))
