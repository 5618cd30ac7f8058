from __future__ import annotations

from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from marshmallow import ValidationError, fields, post_dump, post_load, validate, validates_schema

from telehealth.checkins.models import CheckInContext
from telehealth.instruments.definitions import INSTRUMENTS
from telehealth.pagination import PageQuery, page_schema
from telehealth.schemas import StrictFloat, StrictSchema, Text, UTCDateTime


def _answers_problem(code: str, answers: list[int]) -> str | None:
    instrument = INSTRUMENTS[code]
    expected = len(instrument.items)
    allowed = {expected, expected + len(instrument.optional_items)}
    if len(answers) not in allowed:
        counts = " or ".join(str(n) for n in sorted(allowed))
        return f"Needs {counts} answers; got {len(answers)}. Nothing was scored."
    low, high = instrument.item_min, instrument.item_max
    wrong = [i + 1 for i, answer in enumerate(answers) if not low <= answer <= high]
    if wrong:
        items = ", ".join(str(i) for i in wrong)
        return f"Item(s) {items} outside {low}-{high}. Nothing was scored."
    return None


class CheckInIn(StrictSchema):
    recorded_at = UTCDateTime(
        required=True, metadata={"description": "When the patient recorded it (phone clock)."}
    )
    mood = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=10),
        metadata={"description": "0 worst, 10 best."},
    )
    anxiety = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=10))
    sleep_hours = StrictFloat(allow_none=True, validate=validate.Range(min=0, max=24))
    note = Text(max_length=2000, min_length=0, allow_none=True)
    context = fields.Enum(CheckInContext, by_value=True, load_default=CheckInContext.DAILY)
    session_id = fields.UUID(allow_none=True)
    instruments = fields.Dict(
        keys=fields.String(validate=validate.OneOf(list(INSTRUMENTS))),
        values=fields.List(fields.Integer(strict=True), validate=validate.Length(max=30)),
        metadata={
            "description": "Answers by instrument code, in item order, e.g. "
            '{"PHQ-9": [0, 1, 2, 0, 1, 0, 0, 1, 0]}. The server scores them.'
        },
    )

    @validates_schema
    def complete_answers(self, data: dict[str, Any], **_kwargs: Any) -> None:
        problems = {
            code: problem
            for code, answers in (data.get("instruments") or {}).items()
            if (problem := _answers_problem(code, answers)) is not None
        }
        if problems:
            raise ValidationError({"instruments": problems})

    @post_load
    def sleep_to_one_decimal(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        """`sleep_hours` is stored with one decimal: round here (half up, as PostgreSQL's
        numeric does) so the answer, its replay and what is read back agree on every backend."""
        if data.get("sleep_hours") is not None:
            hours = Decimal(str(data["sleep_hours"])).quantize(Decimal("0.1"), ROUND_HALF_UP)
            data["sleep_hours"] = float(hours)
        return data


class ScoreOut(StrictSchema):
    total = fields.Integer(required=True)
    band = fields.String()
    probable_ptsd = fields.Boolean()
    provisional_ptsd = fields.Boolean()


class AlertNoticeOut(StrictSchema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True)


class CheckInOut(StrictSchema):
    id = fields.UUID(required=True)
    patient_id = fields.UUID(required=True)
    session_id = fields.UUID(allow_none=True, required=True)
    recorded_at = UTCDateTime(required=True)
    received_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)
    mood = fields.Integer(required=True)
    anxiety = fields.Integer(allow_none=True, required=True)
    sleep_hours = fields.Float(allow_none=True, required=True)
    note = fields.String(allow_none=True, required=True)
    context = fields.Enum(CheckInContext, by_value=True, required=True)
    scores = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(ScoreOut),
        required=True,
    )


class SubmittedCheckInOut(CheckInOut):
    alerts = fields.List(fields.Nested(AlertNoticeOut), required=True)
    crisis_message = fields.String(
        metadata={"description": "Present when the check-in raised a suicidal-ideation alert."}
    )
    dump_hooks = True

    @post_dump
    def only_when_raised(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        """Absent, not null, when no suicidal-ideation alert was raised."""
        if data.get("crisis_message") is None:
            data.pop("crisis_message", None)
        return data


class CheckInQuery(PageQuery):
    from_ = UTCDateTime(data_key="from", metadata={"description": "Recorded at or after."})
    to = UTCDateTime(metadata={"description": "Recorded before."})
    instrument = fields.String(validate=validate.OneOf(list(INSTRUMENTS)))
    updated_since = UTCDateTime(metadata={"description": "Changed at or after."})


class SeriesPointOut(StrictSchema):
    recorded_at = UTCDateTime(required=True)
    total = fields.Integer(required=True)


class Series(fields.List[Any]):
    """The points of a chart, (recorded_at, total) pairs, written without a schema dump per
    point (a year of daily scores would otherwise spend most of the request in marshmallow);
    documented as the list of `SeriesPointOut` it is, and written as that schema writes it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.Nested(SeriesPointOut), **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        # The times stay datetimes: the JSON writer (orjson, telehealth.jsonio) writes an
        # aware UTC time as UTCDateTime does, RFC 3339 with "+00:00", at C speed. As read
        # from the database they are in UTC already; anything else is moved there first.
        return [
            {"recorded_at": at if at.tzinfo is UTC else at.astimezone(UTC), "total": total}
            for at, total in value
        ]


class OutcomeOut(StrictSchema):
    baseline = fields.Integer(allow_none=True, required=True)
    baseline_recorded_at = UTCDateTime(allow_none=True, required=True)
    latest = fields.Integer(allow_none=True, required=True)
    latest_recorded_at = UTCDateTime(allow_none=True, required=True)
    change = fields.Integer(allow_none=True, required=True)
    response = fields.Boolean(allow_none=True, required=True)
    remission = fields.Boolean(allow_none=True, required=True)
    deterioration = fields.Boolean(allow_none=True, required=True)
    series = Series(required=True)


OutcomesOut = StrictSchema.from_dict(
    {code: fields.Nested(OutcomeOut, required=True) for code in INSTRUMENTS}, name="OutcomesOut"
)
CheckInPage = page_schema(CheckInOut, "CheckInPage")
