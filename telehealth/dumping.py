"""Writing answers fast: a schema's fields compiled once into plain attribute reads and
conversions, for the field types the API writes; marshmallow does the rest, unchanged.

marshmallow reads each field of each object through several layers of generic code; for a
page of fifty records that is most of the request. The plan here reads the same attributes
and converts the same values: a value of the exact type a field expects is converted inline
(a string stays, a UUID becomes `str()`); any other value,
any other field type, and any object read by key go to marshmallow itself. Hooks (`pre_dump`,
`post_dump`) and `only`/`exclude` still apply: only the field loop is replaced. The tests run
with `CHECK` on, so every answer of the suite is also written the slow way and compared.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import Schema, fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP

#: Compare every compiled dump with marshmallow's own (the test suite switches it on).
CHECK = False

Convert = Callable[[Any], Any]
#: (output key, attribute, conversion or None for marshmallow's per-field path, name, field)
Step = tuple[str, str, Convert | None, str, fields.Field[Any]]


def _exact(kind: type, field: fields.Field[Any], fast: Convert | None = None) -> Convert:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is kind:
            return fast(value) if fast is not None else value
        return field._serialize(value, None, None)

    return convert


def _nested(field: fields.Field[Any]) -> Convert | None:
    """A nested record, a list of them or a mapping of string keys to them, written by the
    nested schema's compiled loop directly: `Schema.dump` adds nothing but its hooks, and
    these schemas have none."""
    inner: fields.Field[Any] | None = field
    if type(field) is fields.List:
        inner = field.inner
    elif type(field) is fields.Dict and type(field.key_field) in (fields.String, type(None)):
        inner = field.value_field
    if type(inner) is not fields.Nested:
        return None
    schema = inner.schema
    if not isinstance(schema, FastDump) or schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]:
        return None
    write = schema._serialize
    if type(field) is fields.List:
        return lambda value: None if value is None else [write(each) for each in value]
    if type(field) is fields.Dict:

        def mapping(value: Any) -> Any:
            if value is None:
                return None
            if not all(type(key) is str for key in value):
                return field._serialize(value, None, None)  # type: ignore[no-untyped-call]
            return {key: write(each) for key, each in value.items()}

        return mapping
    if schema.many or inner.many:
        return lambda value: None if value is None else write(value, many=True)
    return lambda value: None if value is None else write(value)


def _converter(field: fields.Field[Any]) -> Convert | None:
    """A value -> output function equal to the field's own serialization, or None."""
    kind = type(field)
    nested = _nested(field)
    if nested is not None:
        return nested
    if kind._serialize is fields.UUID._serialize:
        return _exact(uuid.UUID, field, str)
    if kind._serialize is fields.String._serialize:
        return _exact(str, field)
    if kind._serialize is fields.Boolean._serialize:
        return _exact(bool, field)
    if kind._serialize is fields.Number._serialize and not field.as_string:  # type: ignore[attr-defined]
        if isinstance(field, fields.Integer):
            return _exact(int, field)
        if isinstance(field, fields.Float):
            return _exact(float, field)
    if isinstance(field, fields.Enum) and field.by_value is True:
        return lambda value: None if value is None else value.value
    # Fields whose writing depends on the value alone (a field class can say so).
    if isinstance(field, fields.Nested | fields.List | fields.Dict) or (
        kind.serialize is fields.Field.serialize and getattr(kind, "value_only", False)
    ):
        return lambda value: field._serialize(value, None, None)
    return None


def compile_fields(schema: Schema) -> list[Step]:
    steps: list[Step] = []
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        attribute = field.attribute or name
        convert = _converter(field)
        if "." in attribute or field.dump_default is not missing:
            convert = None
        steps.append((key, attribute, convert, name, field))
    return steps


class FastDump(Schema):
    """Mixed into the output schemas: the field loop of `dump`, compiled."""

    def _serialize(self, obj: Any, *, many: bool = False) -> Any:
        if many and obj is not None:
            return [self._serialize(each) for each in obj]
        if type(obj) is dict:
            read = obj.get
        elif isinstance(obj, Mapping) or hasattr(obj, "__getitem__"):
            return super()._serialize(obj)  # marshmallow reads these by key first
        else:
            read = functools.partial(getattr, obj)
        steps: list[Step] | None = self.__dict__.get("_steps")
        if steps is None:
            steps = self.__dict__["_steps"] = compile_fields(self)
        written: dict[str, Any] = {}
        for key, attribute, convert, name, field in steps:
            value = missing if convert is None else read(attribute, missing)
            # Absent, or a field marshmallow must write: its own path (defaults and all).
            value = (
                field.serialize(name, obj, accessor=self.get_attribute)
                if value is missing
                else convert(value)  # type: ignore[misc]
            )
            if value is not missing:
                written[key] = value
        if CHECK:
            expected = super()._serialize(obj)
            assert written == expected and list(written) == list(expected), (written, expected)
        return written
