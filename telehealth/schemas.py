"""Field types shared by every area's schemas."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate


class StrictSchema(Schema):
    """Unknown fields are refused (marshmallow's default, stated here so nobody relaxes it)."""

    class Meta:
        unknown = "raise"
        ordered = True


class Text(fields.String):
    """A string that is trimmed, bounded, and not blank where required."""

    def __init__(self, *, max_length: int, min_length: int = 1, **kwargs: Any) -> None:
        super().__init__(validate=validate.Length(min=min_length, max=max_length), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("Must not contain NUL characters.")
        return text.strip()


class UTCDateTime(fields.AwareDateTime):
    """RFC 3339 with an offset on the way in; UTC on the way in to the service and out."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None:
            value = value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def Name(**kwargs: Any) -> Text:  # noqa: N802 - reads as a field type
    return Text(max_length=200, **kwargs)


class EmailField(fields.Email):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Length(max=254), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return str(super()._deserialize(value, attr, data, **kwargs)).strip().lower()


# `\Z`, not `$`: `$` also matches before a trailing newline, which would then be stored.
_PHONE = re.compile(r"^\+?\(?[0-9][0-9 ().-]{5,30}\Z")


class Phone(fields.String):
    """A phone number as people write it: digits, spaces, dots, dashes, brackets, a leading +."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            validate=[
                validate.Length(max=32),
                validate.Regexp(_PHONE, error="Not a phone number."),
            ],
            metadata={"example": "+1 555 0100"},
            **kwargs,
        )


class ContactSchema(StrictSchema):
    name = Name(required=True)
    phone = Phone(required=True)
