"""Field types shared by every area's schemas."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import ValidationError, fields, validate

from telehealth.dumping import FastDump


class StrictSchema(FastDump):
    """Unknown fields are refused (marshmallow's default, stated here so nobody relaxes it);
    answers are written by the planned field loop of `telehealth.dumping`."""

    class Meta:
        unknown = "raise"
        ordered = True


def refuse_nul(value: str) -> None:
    """For strings that are not `Text` (credentials, filters): NUL is never a character of
    them, and PostgreSQL refuses it in text."""
    if "\x00" in value:
        raise ValidationError("Must not contain NUL characters.")


class Text(fields.String):
    """A string that is trimmed, bounded, and not blank where required."""

    def __init__(self, *, max_length: int, min_length: int = 1, **kwargs: Any) -> None:
        super().__init__(validate=validate.Length(min=min_length, max=max_length), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        refuse_nul(text)
        return text.strip()


class StrictBoolean(fields.Boolean):
    """JSON `true` or `false` only: marshmallow's Boolean also takes 1, "yes", "on" and such."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class StrictFloat(fields.Float):
    """A JSON number only: marshmallow's Float also takes numeric strings ("36.6")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, str):
            raise self.make_error("invalid")
        return float(super()._deserialize(value, attr, data, **kwargs))


# A day inside Python's datetime range: converting to any time zone and adding the few hours
# the service adds (a session's end, monitoring checkpoints) can then never overflow.
EARLIEST = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
LATEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


class UTCDateTime(fields.AwareDateTime):
    """RFC 3339 with an offset on the way in; UTC on the way in to the service and out."""

    def dump_value(self, value: datetime | None) -> Any:
        """What this field writes for `value`, which is all its writing reads: the answer
        writer (telehealth.dumping) calls it directly."""
        if value is not None and value.tzinfo is UTC and self.format == "iso":
            return value.isoformat()  # the common case, without the field's lookups
        return self.serialize("value", {"value": value})

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        try:
            moment = super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:59:59-14:00 is past the last UTC year
            moment = None
        if moment is None or not EARLIEST <= moment <= LATEST:
            raise ValidationError("Must be a time between the years 0001 and 9999 (UTC).")
        return moment

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None and value.tzinfo is UTC and self.format == "iso":
            return value.isoformat()  # what DateTime writes for "iso", without its lookups
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
