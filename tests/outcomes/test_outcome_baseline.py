"""Which score is the baseline (clinical reference, "Outcomes"): the first score of the
instrument, or, where the patient has sessions, the last one before the first session.
Cancelled and no-show sessions were never a treatment, so they do not count. Also: `latest` is
the newest by `recorded_at` (a late, offline submission does not displace it) and the series
is in `recorded_at` order."""

from __future__ import annotations

import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.outcomes.outcome_helpers import (
    alert_kinds,
    days_ago,
    move_session,
    now,
    read_outcomes,
    same_moment,
    schedule_session,
    series_points,
    submit_totals,
)


def test_baseline_is_the_last_score_before_the_first_session(client, world):
    start = now()
    submit_totals(client, world.patient, days_ago(10, at=start), PHQ_9=8)
    submit_totals(client, world.patient, days_ago(5, at=start), PHQ_9=12)
    schedule_session(client, world.clinician, world.patient, days_ago(3, at=start))
    submit_totals(client, world.patient, days_ago(1, at=start), PHQ_9=6)

    outcome = read_outcomes(client, world.clinician, world.patient)["PHQ-9"]

    assert outcome["baseline"] == 12
    assert same_moment(outcome["baseline_recorded_at"], days_ago(5, at=start))
    assert outcome["latest"] == 6
    assert outcome["change"] == -6
    assert outcome["response"] is True  # 12 -> 6 is half; against day -10's 8 it would not be
    assert outcome["remission"] is False
    assert [total for _, total in series_points(outcome)] == [8, 12, 6]


def test_session_scheduled_after_the_scores_still_selects_the_pre_session_score(client, world):
    """The session may be booked after the scores were recorded: only its start matters."""
    start = now()
    submit_totals(client, world.patient, days_ago(10, at=start), GAD_7=6)
    submit_totals(client, world.patient, days_ago(5, at=start), GAD_7=10)
    submit_totals(client, world.patient, days_ago(1, at=start), GAD_7=5)
    schedule_session(client, world.clinician, world.patient, days_ago(3, at=start))

    outcome = read_outcomes(client, world.clinician, world.patient)["GAD-7"]

    assert (outcome["baseline"], outcome["latest"], outcome["change"]) == (10, 5, -5)
    assert outcome["response"] is True


def test_the_first_of_several_sessions_decides(client, world):
    start = now()
    submit_totals(client, world.patient, days_ago(20, at=start), PHQ_9=18)
    schedule_session(client, world.clinician, world.patient, days_ago(15, at=start))
    submit_totals(client, world.patient, days_ago(12, at=start), PHQ_9=14)
    schedule_session(client, world.clinician, world.patient, days_ago(8, at=start))
    submit_totals(client, world.patient, days_ago(2, at=start), PHQ_9=9)

    outcome = read_outcomes(client, world.patient, world.patient)["PHQ-9"]

    assert outcome["baseline"] == 18
    assert same_moment(outcome["baseline_recorded_at"], days_ago(20, at=start))
    assert outcome["response"] is True


@pytest.mark.parametrize("moves", [["start"], ["start", "complete"]])
def test_sessions_that_took_place_count(client, world, moves):
    start = now()
    submit_totals(client, world.patient, days_ago(10, at=start), PHQ_9=8)
    submit_totals(client, world.patient, days_ago(5, at=start), PHQ_9=12)
    session_id = schedule_session(client, world.clinician, world.patient, days_ago(3, at=start))
    for action in moves:
        move_session(client, world.clinician, session_id, action)
    submit_totals(client, world.patient, days_ago(1, at=start), PHQ_9=6)

    outcome = read_outcomes(client, world.clinician, world.patient)["PHQ-9"]

    assert outcome["baseline"] == 12


@pytest.mark.parametrize("action", ["cancel", "no-show"])
def test_cancelled_or_missed_sessions_do_not_count(client, world, action):
    start = now()
    submit_totals(client, world.patient, days_ago(10, at=start), PHQ_9=8)
    submit_totals(client, world.patient, days_ago(5, at=start), PHQ_9=12)
    session_id = schedule_session(client, world.clinician, world.patient, days_ago(3, at=start))
    move_session(client, world.clinician, session_id, action)
    submit_totals(client, world.patient, days_ago(1, at=start), PHQ_9=6)

    outcome = read_outcomes(client, world.clinician, world.patient)["PHQ-9"]

    assert outcome["baseline"] == 8  # no treatment session: the first score
    assert same_moment(outcome["baseline_recorded_at"], days_ago(10, at=start))
    assert outcome["response"] is False


@pytest.mark.parametrize("action", ["cancel", "no-show"])
def test_a_cancelled_earlier_session_does_not_hide_the_real_first_one(client, world, action):
    start = now()
    submit_totals(client, world.patient, days_ago(10, at=start), PHQ_9=8)
    missed = schedule_session(client, world.clinician, world.patient, days_ago(7, at=start))
    move_session(client, world.clinician, missed, action)
    submit_totals(client, world.patient, days_ago(5, at=start), PHQ_9=12)
    schedule_session(client, world.clinician, world.patient, days_ago(3, at=start))
    submit_totals(client, world.patient, days_ago(1, at=start), PHQ_9=6)

    outcome = read_outcomes(client, world.clinician, world.patient)["PHQ-9"]

    assert outcome["baseline"] == 12  # before the real first session, not the cancelled one
    assert outcome["response"] is True


def test_no_score_before_the_first_session_falls_back_to_the_first_score(client, world):
    start = now()
    schedule_session(client, world.clinician, world.patient, days_ago(10, at=start))
    submit_totals(client, world.patient, days_ago(6, at=start), PHQ_9=15)
    submit_totals(client, world.patient, days_ago(2, at=start), PHQ_9=7)

    outcome = read_outcomes(client, world.clinician, world.patient)["PHQ-9"]

    assert outcome["baseline"] == 15
    assert same_moment(outcome["baseline_recorded_at"], days_ago(6, at=start))
    assert (outcome["latest"], outcome["change"], outcome["response"]) == (7, -8, True)


def test_another_patients_sessions_do_not_move_the_baseline(client, world):
    start = now()
    submit_totals(client, world.patient, days_ago(10, at=start), PHQ_9=8)
    submit_totals(client, world.patient, days_ago(5, at=start), PHQ_9=12)
    schedule_session(client, world.other_clinician, world.other_patient, days_ago(3, at=start))
    submit_totals(client, world.patient, days_ago(1, at=start), PHQ_9=6)

    outcome = read_outcomes(client, world.clinician, world.patient)["PHQ-9"]

    assert outcome["baseline"] == 8


def test_deterioration_alert_is_judged_against_the_pre_session_baseline(client, world):
    start = now()
    submit_totals(client, world.patient, days_ago(10, at=start), PHQ_9=4)
    submit_totals(client, world.patient, days_ago(5, at=start), PHQ_9=10)
    schedule_session(client, world.clinician, world.patient, days_ago(3, at=start))

    four_up = submit_totals(client, world.patient, days_ago(2, at=start), PHQ_9=14)
    five_up = submit_totals(client, world.patient, days_ago(1, at=start), PHQ_9=15)

    assert "deterioration" not in alert_kinds(four_up)  # +4 over 10 (+10 over the first score)
    assert alert_kinds(five_up) == {"deterioration"}
    outcome = read_outcomes(client, world.clinician, world.patient)["PHQ-9"]
    assert (outcome["baseline"], outcome["latest"], outcome["deterioration"]) == (10, 15, True)


def test_a_late_offline_check_in_does_not_become_latest(client, world):
    start = now()
    submit_totals(client, world.patient, days_ago(2, at=start), PHQ_9=12)
    submit_totals(client, world.patient, days_ago(1, at=start), PHQ_9=10)
    # Recorded on the phone five days ago, received only now.
    submit_totals(client, world.patient, days_ago(5, at=start), PHQ_9=20)

    outcome = read_outcomes(client, world.patient, world.patient)["PHQ-9"]

    assert outcome["latest"] == 10
    assert same_moment(outcome["latest_recorded_at"], days_ago(1, at=start))
    assert outcome["baseline"] == 20  # the first score by recorded_at, however late it arrived
    assert same_moment(outcome["baseline_recorded_at"], days_ago(5, at=start))
    assert (outcome["change"], outcome["response"]) == (-10, True)
    assert series_points(outcome) == [
        (days_ago(5, at=start), 20),
        (days_ago(2, at=start), 12),
        (days_ago(1, at=start), 10),
    ]


def test_a_late_check_in_recorded_between_others_lands_in_order(client, world):
    start = now()
    submit_totals(client, world.patient, days_ago(9, at=start), GAD_7=12)
    submit_totals(client, world.patient, days_ago(1, at=start), GAD_7=4)
    submit_totals(client, world.patient, days_ago(4, at=start), GAD_7=8)

    outcome = read_outcomes(client, world.patient, world.patient)["GAD-7"]

    assert [total for _, total in series_points(outcome)] == [12, 8, 4]
    assert (outcome["baseline"], outcome["latest"], outcome["remission"]) == (12, 4, True)


def test_recorded_at_offsets_are_compared_as_instants(client, world):
    """A check-in sent with a -05:00 offset is ordered by the instant it names."""
    start = now().replace(microsecond=0)
    early = days_ago(2, at=start)
    later = days_ago(1, at=start)
    for moment, total in ((later, 9), (early, 3)):
        response = client.post(
            "/api/v1/checkins",
            headers=world.patient.headers,
            json={
                "recorded_at": moment.astimezone(ZoneInfo("America/New_York")).isoformat(),
                "mood": 5,
                "instruments": {"GAD-7": [3] * (total // 3) + [0] * (7 - total // 3)},
            },
        )
        assert response.status_code == 201, response.get_json()

    outcome = read_outcomes(client, world.patient, world.patient)["GAD-7"]

    assert series_points(outcome) == [(early, 3), (later, 9)]
    assert (outcome["baseline"], outcome["latest"], outcome["deterioration"]) == (3, 9, True)


def expected(points, first_session=None):
    """The reference's rules, written independently: points are (recorded_at, total)."""
    ordered = sorted(points)
    before = [point for point in ordered if first_session and point[0] < first_session]
    base = before[-1] if before else ordered[0]
    last = ordered[-1]
    return {
        "baseline": base[1],
        "latest": last[1],
        "change": last[1] - base[1],
        "response": base[1] > 0 and (base[1] - last[1]) * 2 >= base[1],
        "remission": last[1] < 5,
        "deterioration": last[1] - base[1] >= 5,
        "series": ordered,
    }


@pytest.mark.parametrize("with_session", [False, True], ids=["no-session", "session-day-30"])
def test_sixty_check_ins_submitted_out_of_order(client, world, with_session):
    start = now()
    rng = random.Random(20261121)
    points = [(days_ago(61 - day, at=start), rng.randint(0, 24)) for day in range(60)]
    first_session = None
    if with_session:
        first_session = days_ago(30.5, at=start)
        schedule_session(client, world.clinician, world.patient, first_session)
    shuffled = points[:]
    rng.shuffle(shuffled)
    for moment, total in shuffled:
        submit_totals(client, world.patient, moment, PHQ_9=total)

    outcome = read_outcomes(client, world.clinician, world.patient)["PHQ-9"]

    want = expected(points, first_session)
    if with_session:  # the session really moves the baseline in this data
        assert want["baseline"] != expected(points)["baseline"]
    assert series_points(outcome) == want.pop("series")
    assert len(outcome["series"]) == 60
    for key, value in want.items():
        assert outcome[key] == value, key


def test_a_session_booked_ahead_does_not_freeze_the_baseline(client, world):
    """Until the first session begins, the baseline is the first score: a patient who gets
    worse while waiting for treatment still shows (and raises) deterioration."""
    start = now()
    schedule_session(client, world.clinician, world.patient, start + timedelta(days=7))
    submit_totals(client, world.patient, days_ago(10, at=start), PHQ_9=8)
    worse = submit_totals(client, world.patient, days_ago(1, at=start), PHQ_9=13)

    assert alert_kinds(worse) == {"deterioration"}
    outcome = read_outcomes(client, world.clinician, world.patient)["PHQ-9"]
    assert (outcome["baseline"], outcome["latest"], outcome["change"]) == (8, 13, 5)
    assert outcome["deterioration"] is True


def test_a_session_started_ahead_of_its_time_counts(client, world):
    start = now()
    submit_totals(client, world.patient, days_ago(10, at=start), PHQ_9=8)
    submit_totals(client, world.patient, days_ago(5, at=start), PHQ_9=12)
    session_id = schedule_session(
        client, world.clinician, world.patient, start + timedelta(minutes=30)
    )
    move_session(client, world.clinician, session_id, "start")

    outcome = read_outcomes(client, world.clinician, world.patient)["PHQ-9"]

    assert outcome["baseline"] == 12
