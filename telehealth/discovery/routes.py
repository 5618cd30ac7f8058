"""`GET /` and `GET /api/v1`: anyone, signed in or not, learns where the docs page and the
OpenAPI document are, instead of a bare 404."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import fields

from telehealth.discovery.info import API_BASE
from telehealth.openapi.marks import NO_DATABASE
from telehealth.schemas import StrictSchema

PUBLIC: dict[str, Any] = {"security": []}

blp = Blueprint(
    "index",
    __name__,
    description="Where to start: the docs page, the OpenAPI document and the API's base path. "
    "No sign-in needed.",
)


class IndexOut(StrictSchema):
    service = fields.String(required=True, metadata={"description": "The service's name."})
    version = fields.String(required=True, metadata={"description": "The API's version."})
    api = fields.String(required=True, metadata={"description": "The base path of every route."})
    docs = fields.String(required=True, metadata={"description": "The browsable docs page."})
    openapi = fields.String(required=True, metadata={"description": "The OpenAPI 3 document."})


def index() -> dict[str, str]:
    config = current_app.config
    return {
        "service": config["API_TITLE"],
        "version": config["API_VERSION"],
        "api": API_BASE,
        "docs": _served_at(config["OPENAPI_SWAGGER_UI_PATH"]),
        "openapi": _served_at(config["OPENAPI_JSON_PATH"]),
    }


def _served_at(name: str) -> str:
    """Where flask-smorest serves one of its pages: under `OPENAPI_URL_PREFIX`."""
    parts = (str(current_app.config["OPENAPI_URL_PREFIX"]).strip("/"), name.strip("/"))
    return "/" + "/".join(part for part in parts if part)


@blp.get("/")
@blp.response(200, IndexOut)
@blp.doc(operationId="getServiceIndex", **PUBLIC, **NO_DATABASE)
def service_index() -> dict[str, str]:
    """Where to start: the docs page, the OpenAPI document and the API's base path."""
    return index()


@blp.get(API_BASE)
@blp.response(200, IndexOut)
@blp.doc(operationId="getApiIndex", **PUBLIC, **NO_DATABASE)
def api_index() -> dict[str, str]:
    """The API's base path answers like `/`: where its docs and OpenAPI document are."""
    return index()
