"""Extension objects, created unbound; `create_app` binds them to an app."""

from __future__ import annotations

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_smorest import Api as _Api
from werkzeug.exceptions import HTTPException

from telehealth.db import Database
from telehealth.errors import handle_http_exception
from telehealth.net import client_address


class Api(_Api):  # type: ignore[misc]
    """flask-smorest's Api with errors answered as RFC 9457 problems."""

    def handle_http_exception(self, error: HTTPException):  # type: ignore[no-untyped-def]
        return handle_http_exception(error)


db = Database()
migrate = Migrate()
jwt = JWTManager()
limiter = Limiter(key_func=client_address)
api = Api()
