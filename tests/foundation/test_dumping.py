"""The planned answer writer (telehealth.dumping) writes what marshmallow's `Schema.dump`
writes, and fails here, loudly, the day marshmallow changes what it relies on."""

from __future__ import annotations

import enum
import uuid
from collections import UserDict
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from marshmallow import Schema, fields, post_dump, pre_dump
from marshmallow.decorators import POST_DUMP, PRE_DUMP

from telehealth import dumping
from telehealth.dumping import FALLBACK, FastDump, has_dump_hooks
from telehealth.schemas import StrictSchema, Text, UTCDateTime


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Shouting(fields.String):
    """A field of ours that changes how it writes: left to marshmallow."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else str(value).upper()


class PartOut(StrictSchema):
    name = fields.String()
    size = fields.Integer()


class WholeOut(StrictSchema):
    id = fields.UUID()
    name = Text(max_length=20)
    count = fields.Integer()
    ratio = fields.Float()
    flag = fields.Boolean()
    colour = fields.Enum(Colour, by_value=True)
    named_colour = fields.Enum(Colour)
    at = UTCDateTime()
    label = fields.String(data_key="title")
    alias = fields.String(attribute="label", dump_only=True)
    fallback = fields.String(dump_default="none given")
    loud = Shouting()
    computed = fields.Method("compute")
    part = fields.Nested(PartOut, allow_none=True)
    parts = fields.List(fields.Nested(PartOut))
    by_key = fields.Dict(keys=fields.String(), values=fields.Nested(PartOut))
    tags = fields.List(fields.String())

    def compute(self, obj: Any) -> int:
        return 42


def _whole(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": uuid.UUID("00000000-0000-4000-8000-000000000001"),
        "name": "Ada",
        "count": 3,
        "ratio": 0.5,
        "flag": True,
        "colour": Colour.RED,
        "named_colour": Colour.BLUE,
        "at": datetime(2026, 12, 1, 12, 30, tzinfo=UTC),
        "label": "a title",
        "loud": "quiet",
        "part": {"name": "p", "size": 1},
        "parts": [{"name": "q", "size": 2}, SimpleNamespace(name="r", size=3)],
        "by_key": {"x": {"name": "s", "size": 4}},
        "tags": ["a", "b"],
    }
    values.update(changes)
    return values


RECORDS = [
    _whole(),
    {},  # every value absent
    _whole(id="00000000-0000-4000-8000-000000000002", count=2.0, ratio=1, flag=1),
    _whole(name=None, count=None, part=None, parts=None, by_key=None, at=None),
    _whole(at=datetime(2026, 12, 1, 13, 30, tzinfo=timezone(timedelta(hours=1)))),
    _whole(by_key={1: {"name": "t", "size": 5}}),
    _whole(fallback="given"),
]


@pytest.mark.parametrize("values", RECORDS)
def test_a_planned_dump_writes_what_schema_dump_writes_for_dicts_objects_and_mappings(
    values: dict[str, Any],
) -> None:
    schema = WholeOut()
    for record in (values, SimpleNamespace(**values), UserDict(values)):
        expected = Schema.dump(schema, record)
        assert repr(schema.dump(record)) == repr(expected)
        many = schema.dump([record, record], many=True)
        assert repr(many) == repr(Schema.dump(schema, [record, record], many=True))


def test_an_absent_value_and_a_default_are_written_as_marshmallow_writes_them() -> None:
    written = WholeOut().dump({})
    assert written == Schema.dump(WholeOut(), {})
    assert written["fallback"] == "none given"
    assert written["computed"] == 42


def _marshmallow_hooks(schema_class: type[Schema]) -> bool:
    """marshmallow's own record of a schema's dump hooks: a private attribute, read only here,
    so that a release that moves it fails this test and nothing in the service."""
    hooks = schema_class._hooks  # type: ignore[attr-defined]
    return bool(hooks[PRE_DUMP] or hooks[POST_DUMP])


def _subclasses(base: type) -> list[type]:
    found = []
    for child in base.__subclasses__():
        found += [child, *_subclasses(child)]
    return found


def test_every_output_schema_declares_its_dump_hooks() -> None:
    """A schema with pre_dump or post_dump says so (`dump_hooks = True`), and no other does:
    the writer dumps those through marshmallow, so their hooks run."""
    import telehealth.models  # noqa: F401 - every area's schemas, through their routes
    from telehealth import create_app

    create_app("test")  # imports every blueprint, and so every schema
    schemas = [c for c in _subclasses(FastDump) if c.__module__.startswith("telehealth.")]

    assert len(schemas) > 30
    wrong = [
        f"{c.__module__}.{c.__qualname__}"
        for c in schemas
        if bool(c.dump_hooks) != _marshmallow_hooks(c)
    ]
    assert wrong == []


def test_a_schema_that_declares_its_hooks_has_them_run() -> None:
    class Before(FastDump):
        dump_hooks = True
        name = fields.String()

        @pre_dump
        def upper(self, data: Any, **_kwargs: Any) -> Any:
            return {"name": data["name"].upper()}

    class After(FastDump):
        dump_hooks = True
        name = fields.String()

        @post_dump
        def tag(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
            return {**data, "tagged": True}

    assert _marshmallow_hooks(Before) and _marshmallow_hooks(After)
    assert not _marshmallow_hooks(PartOut)
    assert has_dump_hooks(Before()) and has_dump_hooks(After())
    assert not has_dump_hooks(PartOut())
    assert Before().dump({"name": "ada"}) == {"name": "ADA"}
    assert After().dump({"name": "ada"}) == {"name": "ada", "tagged": True}


def test_each_inline_conversion_writes_what_its_field_writes_and_leaves_other_values() -> None:
    cases: list[tuple[fields.Field[Any], list[Any], list[Any]]] = [
        (fields.String(), ["text", ""], [3, b"bytes"]),
        (Text(max_length=5), ["text"], [3]),
        (fields.UUID(), [uuid.uuid4()], ["00000000-0000-4000-8000-000000000002"]),
        (fields.Integer(), [0, 7, -1], [2.0, True]),
        (fields.Float(), [0.5], [1, True]),
        (fields.Boolean(), [True, False], [1, 0]),
        (fields.Enum(Colour, by_value=True), [Colour.RED], []),
        (UTCDateTime(), [datetime(2026, 12, 1, tzinfo=UTC)], []),
    ]
    for field, inline, other in cases:
        convert = dumping._converter(field)
        assert convert is not None, field
        for value in [*inline, None]:
            assert repr(convert(value)) == repr(field.serialize("v", {"v": value})), (field, value)
        for value in other:
            assert convert(value) is FALLBACK, (field, value)


def test_fields_that_change_how_they_write_are_left_to_marshmallow() -> None:
    assert dumping._converter(Shouting()) is None
    assert dumping._converter(fields.Integer(as_string=True)) is None
    assert dumping._converter(fields.Enum(Colour)) is None
    assert dumping._converter(fields.Method("compute")) is None
    assert WholeOut().dump(_whole())["loud"] == "QUIET"


def test_the_suite_compares_every_answer_with_marshmallows_own() -> None:
    assert dumping.CHECK is True
