"""The questionnaire definitions, so every app renders the wording the scores assume."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from telehealth.auth.roles import authenticated
from telehealth.instruments.definitions import INSTRUMENTS
from telehealth.schemas import StrictSchema

blp = Blueprint("instruments", __name__, url_prefix="/api/v1", description="Questionnaires")


class BandOut(StrictSchema):
    low = fields.Integer(required=True)
    high = fields.Integer(required=True)
    label = fields.String(required=True)


class InstrumentOut(StrictSchema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    version = fields.String(required=True)
    citation = fields.String(required=True)
    recall = fields.String(required=True)
    stem = fields.String(required=True)
    items = fields.List(fields.String(), required=True)
    optional_items = fields.List(fields.String(), required=True)
    options = fields.List(
        fields.String(), required=True, metadata={"description": "Answer i scores i points."}
    )
    item_min = fields.Integer(required=True)
    item_max = fields.Integer(required=True)
    total_max = fields.Integer(required=True)
    bands = fields.List(fields.Nested(BandOut), required=True)


class InstrumentList(StrictSchema):
    items = fields.List(fields.Nested(InstrumentOut), required=True)


@blp.get("/instruments")
@authenticated()
@blp.response(200, InstrumentList)
def list_instruments() -> Any:
    """PHQ-9, GAD-7 and PCL-5: code, version, item text, answer options, ranges and bands."""
    return {"items": list(INSTRUMENTS.values())}
