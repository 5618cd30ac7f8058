"""The chart's series is written without a schema dump per point (its times are left for the
JSON writer); the JSON must read exactly as the documented `SeriesPointOut` would write it."""

from datetime import UTC, datetime, timedelta, timezone

import orjson

from telehealth.checkins.schemas import OutcomeOut, SeriesPointOut
from telehealth.jsonio import OPTIONS


def test_the_fast_series_writes_what_the_point_schema_writes():
    eastern = timezone(timedelta(hours=-5))
    points = [
        {"recorded_at": datetime(2026, 1, 1, 23, 30, tzinfo=eastern), "total": 27},
        {"recorded_at": datetime(2026, 1, 2, tzinfo=UTC) + timedelta(microseconds=7), "total": 0},
    ]

    pairs = [(point["recorded_at"], point["total"]) for point in points]

    fast = OutcomeOut().fields["series"].serialize("series", {"series": pairs})
    written = orjson.loads(orjson.dumps(fast, option=OPTIONS))

    assert written == SeriesPointOut(many=True).dump(points)
    assert written[0] == {"recorded_at": "2026-01-02T04:30:00+00:00", "total": 27}
    assert written[1] == {"recorded_at": "2026-01-02T00:00:00.000007+00:00", "total": 0}


def test_the_series_is_documented_as_a_list_of_points(client):
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    series = schemas["OutcomeOut"]["properties"]["series"]
    assert series["type"] == "array"
    assert series["items"] == {"$ref": "#/components/schemas/SeriesPointOut"}
