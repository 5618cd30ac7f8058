"""Marshmallow attribute functions: JSON Schema states what validators check in code. A trimmed
`Text` needs a visible character and no NUL; a time zone is one of the IANA names; questionnaire
answers come in the instrument's count and range; a PATCH's nested objects are partial; a
nullable nested object is null or the object, nothing else; Python's `\\Z` is written `$`, its
meaning in the ECMA-262 patterns of JSON Schema."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable
from typing import Any

from flask import Flask
from marshmallow import fields

from telehealth.instruments.definitions import INSTRUMENTS
from telehealth.patients.schemas import validate_time_zone
from telehealth.schemas import Text, refuse_nul

Json = dict[str, Any]
AttributeFunction = Callable[..., Json]

# Characters Python's `str.strip()` removes (`str.isspace`), as an ECMA-262 class body.
_PY_SPACE = r"\t-\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
VISIBLE_TEXT = rf"^[^\u0000]*[^\u0000{_PY_SPACE}][^\u0000]*$"
ANY_TEXT = r"^[^\u0000]*$"


def honest_strings(converter: Any, field: fields.Field[Any], **kwargs: Any) -> Json:
    """A `Text` is trimmed (so one that must not be blank needs a visible character) and, like
    a field validated by `refuse_nul`, refuses NUL; Python's `\\Z` is ECMA-262's `$`."""
    ret: Json = kwargs.get("ret", {})
    if isinstance(field, Text):
        minimum = next((v.min for v in field.validators if hasattr(v, "min")), None)
        return {"pattern": VISIBLE_TEXT if minimum else ANY_TEXT}
    pattern = ret.get("pattern")
    if pattern is None and refuse_nul in field.validators:
        return {"pattern": ANY_TEXT}
    if isinstance(pattern, str) and pattern.endswith("\\Z"):
        return {"pattern": pattern[:-2] + "$"}
    return {}


@functools.cache
def time_zone_pattern() -> str:
    """Exactly the IANA names `zoneinfo` knows, as one pattern grouped by area (`Europe/...`):
    a client gets a plain string, not an enum of some 600 names."""
    areas: dict[str, list[str]] = {}
    for name in sorted(zoneinfo.available_timezones()):
        area, _, place = name.partition("/")
        areas.setdefault(area, []).append(place)

    def escape(text: str) -> str:
        return text.replace("+", r"\+")  # names hold letters, digits, / _ - and +

    alternatives = []
    for area, places in areas.items():
        named = "|".join(escape(place) for place in places if place)
        if not named:
            alternatives.append(escape(area))
        elif "" in places:
            alternatives.append(f"{escape(area)}(?:/(?:{named}))?")
        else:
            alternatives.append(f"{escape(area)}/(?:{named})")
    return "^(?:" + "|".join(alternatives) + ")$"


def rules_in_code(app: Flask) -> AttributeFunction:
    """Rules that validators and services check in code, for the fields they apply to."""

    def rules_in_code(converter: Any, field: fields.Field[Any], **kwargs: Any) -> Json:
        if validate_time_zone in field.validators:
            return {
                "pattern": time_zone_pattern(),
                "description": "An IANA time zone name known to the service's tz database.",
            }
        where = (type(field.parent).__name__ if field.parent else "", field.name)
        if where == ("CheckInIn", "instruments"):
            # checkins.schemas: each questionnaire's answer count and answer range.
            return {
                "properties": {
                    code: {
                        "type": "array",
                        "minItems": len(i.items),
                        "maxItems": len(i.items) + len(i.optional_items),
                        "items": {"type": "integer", "minimum": i.item_min, "maximum": i.item_max},
                    }
                    for code, i in INSTRUMENTS.items()
                },
                "additionalProperties": False,
            }
        if where in {
            ("ActivateIn", "password"),
            ("PasswordChangeIn", "new_password"),
            ("PasswordResetConfirmIn", "password"),
        }:
            # accounts.service.check_password_policy: long enough, and not only blanks.
            return {"minLength": app.config["PASSWORD_MIN_LENGTH"], "pattern": VISIBLE_TEXT}
        return {}

    return rules_in_code


def nullable_nested(converter: Any, field: fields.Field[Any], **kwargs: Any) -> Json:
    """A nested object that may be null: apispec writes `anyOf: [{type: object, nullable:
    true}, {$ref}]`, whose first branch admits any object at all; only null is meant."""
    branches = kwargs.get("ret", {}).get("anyOf")
    if not (isinstance(field, fields.Nested) and isinstance(branches, list)):
        return {}
    loose = {"type": "object", "nullable": True}
    only_null = {**loose, "enum": [None]}
    return {"anyOf": [only_null if branch == loose else branch for branch in branches]}


def partial_nested(converter: Any, field: fields.Field[Any], **kwargs: Any) -> Json:
    """A nested object of a schema loaded with `partial=True` (a PATCH) is partial too: any
    subset of its fields, as in a JSON merge patch, not the shared component."""
    if not (isinstance(field, fields.Nested) and getattr(field.parent, "partial", None) is True):
        return {}
    inline: Json = converter.schema2jsonschema(field.schema)
    inline.pop("required", None)
    ret: Json = kwargs.get("ret", {})
    ret.pop("$ref", None)  # the shared component, which requires its fields
    ret.pop("allOf", None)
    return inline
