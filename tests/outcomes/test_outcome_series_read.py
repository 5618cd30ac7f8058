"""The series is read a row per instrument on PostgreSQL (two arrays) and a row per score
elsewhere: both read the same points, oldest first, ties in recorded order."""

from __future__ import annotations

import uuid

from telehealth.checkins.outcomes import SERIES, series_by_instrument
from telehealth.extensions import db
from tests.outcomes.outcome_helpers import days_ago, submit_totals


def test_the_series_reads_the_same_points_as_the_scores_one_row_each(app, client, world):
    moments = [days_ago(3), days_ago(2), days_ago(2), days_ago(1)]  # a tie on day 2
    for number, moment in enumerate(moments):
        submit_totals(client, world.patient, moment, PHQ_9=number + 3, GAD_7=number)
    submit_totals(client, world.other_patient, days_ago(1), PHQ_9=20)
    bound = {"patient_id": uuid.UUID(world.patient.id), "now": days_ago(0)}

    with app.app_context():
        series = series_by_instrument(db.session, bound)
        rows = db.session.execute(SERIES, bound).all()

    assert series["PHQ-9"] == [(at, total) for code, at, total in rows if code == "PHQ-9"]
    assert series["GAD-7"] == [(at, total) for code, at, total in rows if code == "GAD-7"]
    assert [total for _, total in series["PHQ-9"]][::3] == [3, 6]
    assert series["PCL-5"] == []
