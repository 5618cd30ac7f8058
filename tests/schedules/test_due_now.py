"""GET /me/due on a frozen clock: an item is due from its local time until the next occurrence
(the local day for the daily one), done by a check-in that contains it, and missed once its
window is over without one. world.patient lives in America/New_York (UTC-5 in December) and
has the default plan from 1 December: mood daily at 09:00, PHQ-9 and GAD-7 on Mondays, PCL-5
on the 1st."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import frozen
from tests.schedules.schedule_helpers import (
    GAD7_MILD,
    PHQ9_MILD,
    checkin,
    due,
    item,
    plan,
    put_plan,
    utc,
)

NINE_NY = "2026-12-01T09:00:00-05:00"


def test_nothing_is_due_before_the_first_local_due_time(app, client, world):
    with frozen(app, utc(2026, 12, 1, 13, 59)) as clock:  # 08:59 in New York
        assert due(client, clock.headers(world.patient)) == []


def test_due_from_the_local_time_and_done_by_a_checkin_with_a_mood(app, client, world):
    with frozen(app, utc(2026, 12, 1, 14, 0)) as clock:  # 09:00 in New York, the 1st
        headers = clock.headers(world.patient)
        assert due(client, headers) == [("mood", "due", NINE_NY), ("PCL-5", "due", NINE_NY)]

        clock.move_to(utc(2026, 12, 1, 15, 30))
        headers = clock.headers(world.patient)  # an access token lasts 15 minutes
        checkin(client, headers, clock.now())

        assert due(client, headers) == [("PCL-5", "due", NINE_NY)]
        assert due(client, clock.headers(world.other_patient)) == [
            ("mood", "due", NINE_NY), ("PCL-5", "due", NINE_NY)
        ]  # fmt: skip


def test_the_questionnaires_answers_do_the_questionnaire_item(app, client, world):
    with frozen(app, utc(2026, 12, 1, 12, 0)) as clock:
        put_plan(
            client,
            clock.headers(world.clinician),
            world.patient.id,
            plan(item("PHQ-9", "week", "09:00", weekday=1), item("GAD-7", "week", weekday=1)),
        )  # Tuesdays: 1 December is one
        clock.move_to(utc(2026, 12, 1, 16, 0))
        headers = clock.headers(world.patient)
        assert [name for name, *_ in due(client, headers)] == ["PHQ-9", "GAD-7"]

        checkin(client, headers, clock.now())  # a mood alone does neither
        assert [name for name, *_ in due(client, headers)] == ["PHQ-9", "GAD-7"]
        checkin(client, headers, clock.now(), instruments={"PHQ-9": PHQ9_MILD})
        assert due(client, headers) == [("GAD-7", "due", NINE_NY)]
        checkin(client, headers, clock.now(), instruments={"GAD-7": GAD7_MILD})
        assert due(client, headers) == []

        # Still done the next day; due again the next Tuesday at 09:00.
        clock.move_to(utc(2026, 12, 8, 13, 59))
        assert due(client, clock.headers(world.patient)) == []
        clock.move_to(utc(2026, 12, 8, 14, 0))
        assert [name for name, *_ in due(client, clock.headers(world.patient))] == [
            "PHQ-9", "GAD-7"
        ]  # fmt: skip


def test_a_weekly_questionnaire_answered_before_its_time_is_not_this_weeks(app, client, world):
    """A questionnaire's window opens at its due time: answers from before belong to the week
    before."""
    with frozen(app, utc(2026, 12, 1, 12, 0)) as clock:
        put_plan(
            client,
            clock.headers(world.clinician),
            world.patient.id,
            plan(item("PHQ-9", "week", "09:00", weekday=1, starts_on="2026-11-24")),
        )
        checkin(client, clock.headers(world.patient), clock.now(), instruments={"PHQ-9": PHQ9_MILD})
        clock.move_to(utc(2026, 12, 1, 14, 0))
        assert due(client, clock.headers(world.patient)) == [("PHQ-9", "due", NINE_NY)]


def test_the_daily_item_is_done_by_a_checkin_any_time_that_local_day(app, client, world):
    with frozen(app, utc(2026, 12, 1, 12, 30)) as clock:  # 07:30 in New York
        checkin(client, clock.headers(world.patient), clock.now())
        clock.move_to(utc(2026, 12, 1, 14, 30))
        assert due(client, clock.headers(world.patient)) == [("PCL-5", "due", NINE_NY)]
        # The next local day starts at 05:00 UTC: due again from 09:00 there.
        clock.move_to(utc(2026, 12, 2, 14, 0))
        assert due(client, clock.headers(world.patient)) == [
            ("mood", "due", "2026-12-02T09:00:00-05:00"),
            ("PCL-5", "due", NINE_NY),  # a month's window: until 1 January 09:00
        ]


def test_missed_once_the_window_is_over_until_the_next_occurrence(app, client, world):
    with frozen(app, utc(2026, 12, 1, 12, 0)) as clock:
        put_plan(client, clock.headers(world.clinician), world.patient.id, plan(item("mood")))
        # The 1st went by without a check-in: at 08:00 on the 2nd it is missed...
        clock.move_to(utc(2026, 12, 2, 13, 0))
        assert due(client, clock.headers(world.patient)) == [("mood", "missed", NINE_NY)]
        # ...and at 09:00 the 2nd's is due.
        clock.move_to(utc(2026, 12, 2, 14, 0))
        assert due(client, clock.headers(world.patient)) == [
            ("mood", "due", "2026-12-02T09:00:00-05:00")
        ]
        # A late check-in recorded on the 1st does the 1st, not the 2nd.
        checkin(client, clock.headers(world.patient), utc(2026, 12, 1, 23, 0))
        clock.move_to(utc(2026, 12, 3, 13, 0))
        assert due(client, clock.headers(world.patient)) == [
            ("mood", "missed", "2026-12-02T09:00:00-05:00")
        ]


def test_a_plan_that_starts_later_has_nothing_due_yet(app, client, world):
    with frozen(app, utc(2026, 12, 1, 12, 0)) as clock:
        put_plan(
            client,
            clock.headers(world.clinician),
            world.patient.id,
            plan(item("mood", starts_on="2026-12-03")),
        )
        for moment in (utc(2026, 12, 1, 20), utc(2026, 12, 2, 20), utc(2026, 12, 3, 13, 59)):
            clock.move_to(moment)
            assert due(client, clock.headers(world.patient)) == []
        clock.move_to(utc(2026, 12, 3, 14, 0) + timedelta(seconds=1))
        assert [name for name, *_ in due(client, clock.headers(world.patient))] == ["mood"]


def test_the_times_follow_the_patients_zone(app, client, world):
    """09:00 in Berlin is 08:00 UTC in December; the answer gives both."""
    with frozen(app, utc(2026, 12, 1, 12, 0)) as clock:
        patch = client.patch(
            f"/api/v1/patients/{world.patient.id}",
            json={"timezone": "Europe/Berlin"},
            headers={
                **clock.headers(world.clinician),
                "If-Match": client.get(
                    f"/api/v1/patients/{world.patient.id}", headers=clock.headers(world.clinician)
                ).headers["ETag"],
            },
        )
        assert patch.status_code == 200, patch.get_json()
        response = client.get("/api/v1/me/due", headers=clock.headers(world.patient))
        mood = response.get_json()["items"][0]
        assert mood == {
            "instrument": "mood",
            "due_at": "2026-12-01T08:00:00+00:00",
            "due_at_local": "2026-12-01T09:00:00+01:00",
            "status": "due",
        }
