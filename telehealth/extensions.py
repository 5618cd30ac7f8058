"""Extension objects, created unbound; `create_app` binds them to an app."""

from __future__ import annotations

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_smorest import Api as _Api
from flask_smorest import Blueprint
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from telehealth.db import Database
from telehealth.errors import handle_http_exception
from telehealth.net import client_address


class Api(_Api):  # type: ignore[misc]
    """flask-smorest's Api with errors answered as RFC 9457 problems."""

    def handle_http_exception(self, error: HTTPException):  # type: ignore[no-untyped-def]
        return handle_http_exception(error)


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
