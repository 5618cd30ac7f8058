"""A silent patient raises a `missed_checkins` alert, on a frozen clock: 3 daily check-ins or 2
weekly questionnaires missed in a row, one alert per streak however many ticks, and a
submission ends the streak (a later silence may raise another). world.patient is in New York
(local midnight is 05:00 UTC in December)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from telehealth.alerts.models import AlertKind
from telehealth.outbound.models import EventType
from tests.factories import FrozenClock, frozen
from tests.schedules.schedule_helpers import (
    PHQ9_MILD,
    checkin,
    events,
    item,
    missed_alerts,
    plan,
    put_plan,
    tick,
    utc,
)


def ticks(app, clock: FrozenClock, moments: Iterable[datetime]) -> None:
    for moment in moments:
        clock.move_to(moment)
        tick(app)
        tick(app)  # a second worker at the same moment


def hourly(start: datetime, end: datetime) -> list[datetime]:
    return [start + timedelta(hours=n) for n in range(int((end - start) / timedelta(hours=1)))]


def test_three_missed_days_raise_one_alert_when_the_third_day_ends(app, client, world):
    with frozen(app, utc(2026, 12, 2, 4, 0)) as clock:
        put_plan(
            client,
            clock.headers(world.clinician),
            world.patient.id,
            plan(item("mood", starts_on="2026-12-02")),
        )
        # The 2nd, 3rd and 4th go by; the 4th ends at 05:00 UTC on the 5th.
        ticks(app, clock, hourly(utc(2026, 12, 2, 5), utc(2026, 12, 5, 5)))
        assert missed_alerts(app, world.patient) == []

        ticks(app, clock, hourly(utc(2026, 12, 5, 5), utc(2026, 12, 9, 5)))

    [alert] = missed_alerts(app, world.patient)
    assert alert.created_at == utc(2026, 12, 5, 5)
    assert (alert.source_type, str(alert.source_id)) == ("patient", world.patient.id)
    assert "3 scheduled daily check-ins missed in a row" in alert.reason
    # The care team is told (`alert.raised`), and the clinic's systems (`checkin.missed`).
    [raised] = [
        e for e in events(app, EventType.ALERT_RAISED) if e.data["alert_id"] == str(alert.id)
    ]
    assert raised.recipients == [world.clinician.id]
    assert raised.data["kind"] == AlertKind.MISSED_CHECKINS.value
    [missed] = events(app, EventType.CHECKIN_MISSED, world.patient)
    assert missed.data == {
        "patient_id": world.patient.id,
        "alert_id": str(alert.id),
        "instrument": "mood",
    }
    assert missed.recipients == []


def test_a_submission_ends_the_streak_and_a_later_silence_raises_a_new_alert(app, client, world):
    with frozen(app, utc(2026, 12, 2, 4, 0)) as clock:
        put_plan(
            client,
            clock.headers(world.clinician),
            world.patient.id,
            plan(item("mood", starts_on="2026-11-28")),
        )
        ticks(app, clock, [utc(2026, 12, 2, 6)])
        [first] = missed_alerts(app, world.patient)

        # A check-in on the 2nd: the 2nd is done; the 3rd and 4th missed are not enough...
        clock.move_to(utc(2026, 12, 2, 15))
        checkin(client, clock.headers(world.patient), clock.now())
        ticks(app, clock, hourly(utc(2026, 12, 2, 15), utc(2026, 12, 6, 5)))
        assert [a.id for a in missed_alerts(app, world.patient)] == [first.id]

        # ...the 5th makes three again: a new streak, a new alert, once.
        ticks(app, clock, hourly(utc(2026, 12, 6, 5), utc(2026, 12, 7, 5)))

    alerts = missed_alerts(app, world.patient)
    assert len(alerts) == 2 and alerts[0].id == first.id
    assert alerts[1].created_at == utc(2026, 12, 6, 5)
    assert len(events(app, EventType.CHECKIN_MISSED, world.patient)) == 2


def test_the_alert_stands_for_the_streak_acknowledged_or_not(app, client, world):
    """Acknowledging the alert does not make the same streak raise it again."""
    with frozen(app, utc(2026, 12, 2, 4, 0)) as clock:
        put_plan(
            client,
            clock.headers(world.clinician),
            world.patient.id,
            plan(item("mood", starts_on="2026-11-25")),
        )
        ticks(app, clock, [utc(2026, 12, 2, 6)])
        [alert] = missed_alerts(app, world.patient)
        response = client.post(
            f"/api/v1/alerts/{alert.id}/acknowledge",
            json={"note": "Called: phone was broken."},
            headers=clock.headers(world.clinician),
        )
        assert response.status_code == 200, response.get_json()
        ticks(app, clock, hourly(utc(2026, 12, 2, 6), utc(2026, 12, 5, 6)))

    assert len(missed_alerts(app, world.patient)) == 1


def test_a_patient_who_checks_in_every_day_raises_nothing(app, client, world):
    with frozen(app, utc(2026, 12, 2, 4, 0)) as clock:
        put_plan(
            client,
            clock.headers(world.clinician),
            world.patient.id,
            plan(item("mood", at="20:00", starts_on="2026-12-02")),
        )
        for day in range(2, 10):
            # 08:00 local, before the item's time: that local day is done all the same.
            clock.move_to(utc(2026, 12, day, 13))
            checkin(client, clock.headers(world.patient), clock.now())
            ticks(app, clock, hourly(utc(2026, 12, day, 13), utc(2026, 12, day + 1, 13)))

    assert missed_alerts(app, world.patient) == []


def test_two_missed_weekly_questionnaires_raise_an_alert_one_does_not(app, client, world):
    with frozen(app, utc(2026, 12, 1, 13, 0)) as clock:
        put_plan(
            client,
            clock.headers(world.clinician),
            world.patient.id,
            plan(item("PHQ-9", "week", "09:00", weekday=1, starts_on="2026-12-01")),
        )
        # Tuesdays 09:00 New York (14:00 UTC): the 1st's window ends on the 8th, the 8th's on
        # the 15th. Daily check-ins with a mood alone do not answer the PHQ-9.
        for day in range(1, 15):
            clock.move_to(utc(2026, 12, day, 15))
            checkin(client, clock.headers(world.patient), clock.now())
            ticks(app, clock, [utc(2026, 12, day, 15)])
        ticks(app, clock, [utc(2026, 12, 15, 13, 59)])
        assert missed_alerts(app, world.patient) == []

        ticks(app, clock, [utc(2026, 12, 15, 14), utc(2026, 12, 16, 14)])
        [alert] = missed_alerts(app, world.patient)
        assert "2 scheduled PHQ-9 questionnaires missed in a row" in alert.reason

        # Answered on the 15th: that window is done, and the streak is over.
        clock.move_to(utc(2026, 12, 16, 15))
        checkin(client, clock.headers(world.patient), clock.now(), instruments={"PHQ-9": PHQ9_MILD})
        ticks(app, clock, [utc(2026, 12, 23, 15), utc(2026, 12, 29, 15)])

    assert len(missed_alerts(app, world.patient)) == 1


def test_each_item_has_its_own_streak(app, client, world):
    """Daily mood check-ins do not answer the weekly questionnaire, nor cover for it."""
    with frozen(app, utc(2026, 12, 2, 4, 0)) as clock:
        put_plan(
            client,
            clock.headers(world.clinician),
            world.patient.id,
            plan(
                item("mood", starts_on="2026-11-20"),
                item("GAD-7", "week", weekday=0, starts_on="2026-11-16"),
            ),
        )
        checkin(client, clock.headers(world.patient), utc(2026, 12, 1, 20))
        ticks(app, clock, [utc(2026, 12, 2, 6)])

    alerts = missed_alerts(app, world.patient)
    assert [a.occurrence.partition(":")[0] for a in alerts] == ["GAD-7"]
