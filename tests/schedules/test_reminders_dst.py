"""Reminders across daylight-saving changes and time-zone moves, on a frozen clock: the scheduler
runs every 15 minutes of simulated time for four local days around each change, and every
reminder must land at its local hour (09:00 and 13:00 for an item at 09:00, with the default
second reminder 4 hours later), none in quiet hours (21:00-08:00 local), none once the item is
done, at most two per item per local day.

The plan walked: mood daily at 09:00; GAD-7 daily at 06:00 (quiet then: reminded at 08:00 and
12:00); PHQ-9 daily at 22:00 (quiet: never reminded); PCL-5 weekly on Sundays at 02:30, the
hour that does not exist when clocks go forward and the hour that comes twice (in Europe) when
they go back (quiet either way: 08:00 and 12:00). The patient checks in (mood) at 10:00 on the
day of the change and answers the GAD-7 at 10:00 the day after (a check-in always has a mood, so
that one does the mood item too).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from telehealth.outbound.models import EventType
from tests.factories import Actor, FrozenClock, frozen
from tests.schedules.schedule_helpers import (
    GAD7_MILD,
    Sent,
    checkin,
    events,
    item,
    plan,
    put_plan,
    reminders,
    tick,
    utc,
)

STEP = timedelta(minutes=15)
QUIET_STARTS, QUIET_ENDS = time(21), time(8)

#: Each walk: the zone and the Sunday its clocks change (all after the suite's 1 December 2026).
WALKS = {
    "New York, clocks go forward (14 March 2027)": ("America/New_York", date(2027, 3, 14)),
    "New York, clocks go back (7 November 2027)": ("America/New_York", date(2027, 11, 7)),
    "Berlin, clocks go forward (28 March 2027)": ("Europe/Berlin", date(2027, 3, 28)),
    "Berlin, clocks go back (31 October 2027)": ("Europe/Berlin", date(2027, 10, 31)),
}

WALKED_PLAN = plan(
    item("mood", "day", "09:00"),
    item("GAD-7", "day", "06:00"),
    item("PHQ-9", "day", "22:00"),
    item("PCL-5", "week", "02:30", weekday=6),
)


def local(day: date, at: time, zone: str) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def move_patient(client: FlaskClient, clock: FrozenClock, care: Actor, patient: Actor, zone: str):
    """PATCH /patients/{id} {timezone}, as the care team, with If-Match."""
    headers = clock.headers(care)
    url = f"/api/v1/patients/{patient.id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    response = client.patch(url, json={"timezone": zone}, headers={**headers, "If-Match": etag})
    assert response.status_code == 200, response.get_json()


def walk(
    app: Flask,
    clock: FrozenClock,
    start: datetime,
    end: datetime,
    at: dict[datetime, object] | None = None,
) -> None:
    """Tick every 15 minutes from `start` to `end`; at the moments of `at`, call what is
    there first (a check-in, a move)."""
    moment = start
    while moment < end:
        clock.move_to(moment)
        action = (at or {}).get(moment)
        if action is not None:
            action()  # type: ignore[operator]
        tick(app)
        moment += STEP


def expected(change: date) -> set[tuple[str, date, int, time]]:
    days = [change + timedelta(days=n) for n in range(-2, 2)]
    wanted = set()
    for day in days:
        wanted.add(("mood", day, 1, time(9)))
        if day not in (change, change + timedelta(days=1)):  # checked in at 10:00 those days
            wanted.add(("mood", day, 2, time(13)))
        wanted.add(("GAD-7", day, 1, time(8)))
        if day != change + timedelta(days=1):  # answered at 10:00 that day
            wanted.add(("GAD-7", day, 2, time(12)))
    wanted |= {("PCL-5", change, 1, time(8)), ("PCL-5", change, 2, time(12))}
    return wanted


def assert_in_local_daytime(sent: list[Sent]) -> None:
    for reminder in sent:
        assert QUIET_ENDS <= reminder.at < QUIET_STARTS, reminder
        assert reminder.local.date() == reminder.occurrence, reminder
    per_day = Counter((r.instrument, r.occurrence) for r in sent)
    assert max(per_day.values(), default=0) <= 2, per_day
    assert len({(r.instrument, r.occurrence, r.number) for r in sent}) == len(sent)


@pytest.mark.parametrize("name", list(WALKS))
def test_every_reminder_lands_at_its_local_hour_across_a_daylight_saving_change(
    app, client, world, name
):
    zone, change = WALKS[name]
    first_day = change - timedelta(days=2)
    start, end = local(first_day, time(0), zone), local(change + timedelta(days=2), time(0), zone)
    before, after = (
        start.astimezone(ZoneInfo(zone)).utcoffset(),
        end.astimezone(ZoneInfo(zone)).utcoffset(),
    )
    assert before != after, "the walk crosses the change"

    with frozen(app, start - timedelta(hours=1)) as clock:
        move_patient(client, clock, world.clinician, world.patient, zone)
        put_plan(
            client,
            clock.headers(world.clinician),
            world.patient.id,
            {
                **WALKED_PLAN,
                "items": [{**i, "starts_on": str(first_day)} for i in WALKED_PLAN["items"]],
            },
        )

        def check_in_mood() -> None:
            checkin(client, clock.headers(world.patient), clock.now())

        def answer_gad7() -> None:
            checkin(
                client, clock.headers(world.patient), clock.now(), instruments={"GAD-7": GAD7_MILD}
            )

        walk(
            app,
            clock,
            start,
            end,
            {
                local(change, time(10), zone): check_in_mood,
                local(change + timedelta(days=1), time(10), zone): answer_gad7,
            },
        )

    sent = reminders(app, world.patient, zone)
    assert {(r.instrument, r.occurrence, r.number, r.at) for r in sent} == expected(change)
    assert_in_local_daytime(sent)
    assert not [r for r in sent if r.instrument == "PHQ-9"], "22:00 is in quiet hours"
    # Each reminder told the patient once (inbox, email, webhook: one `checkin.due` event),
    # naming the occurrence's due time.
    told = events(app, EventType.CHECKIN_DUE, world.patient)
    assert len(told) == len(sent)
    assert all(event.recipients == [world.patient.id] for event in told)
    assert set(told[0].data) == {"patient_id", "instrument", "due_at", "reminder"}
    due_times = {
        (e.data["instrument"], datetime.fromisoformat(e.data["due_at"]).astimezone(ZoneInfo(zone)))
        for e in told
    }
    assert ("mood", datetime.combine(change, time(9), tzinfo=ZoneInfo(zone))) in due_times


def test_the_skipped_hour_falls_due_an_hour_later_and_the_repeated_hour_once():
    """The pure functions on the two awkward days: 02:30 does not exist in New York on
    14 March 2027 (due at 03:30 EDT, 07:30 UTC); 01:30 happens twice on 7 November 2027 (due
    at the first, 01:30 EDT, 05:30 UTC); an item at 09:00 is due at 09:00 local on both."""
    from telehealth.schedules.models import Every
    from telehealth.schedules.occurrences import Item, occurrence_on

    zone = ZoneInfo("America/New_York")
    skipped = Item("PCL-5", Every.DAY, time(2, 30), date(2027, 1, 1))
    repeated = Item("PCL-5", Every.DAY, time(1, 30), date(2027, 1, 1))
    nine = Item("mood", Every.DAY, time(9), date(2027, 1, 1))

    assert occurrence_on(skipped, date(2027, 3, 14), zone).due_at == utc(2027, 3, 14, 7, 30)
    assert occurrence_on(repeated, date(2027, 11, 7), zone).due_at == utc(2027, 11, 7, 5, 30)
    assert occurrence_on(nine, date(2027, 3, 13), zone).due_at == utc(2027, 3, 13, 14)
    assert occurrence_on(nine, date(2027, 3, 14), zone).due_at == utc(2027, 3, 14, 13)
    assert occurrence_on(nine, date(2027, 11, 7), zone).due_at == utc(2027, 11, 7, 14)
    # The daily window is the local day: 23 hours long in spring, 25 in autumn.
    spring = occurrence_on(nine, date(2027, 3, 14), zone)
    autumn = occurrence_on(nine, date(2027, 11, 7), zone)
    assert spring.ends_at - spring.starts_at == timedelta(hours=23)
    assert autumn.ends_at - autumn.starts_at == timedelta(hours=25)


def test_a_change_of_time_zone_moves_the_next_reminders(app, client, world):
    """New York to Berlin in the evening of 3 December: 09:00 and 13:00 New York time (14:00
    and 18:00 UTC) on the 2nd and 3rd, then 09:00 and 13:00 Berlin time (08:00 and 12:00 UTC)
    on the 4th and 5th."""
    with frozen(app, utc(2026, 12, 2, 4, 0)) as clock:
        put_plan(
            client,
            clock.headers(world.clinician),
            world.patient.id,
            plan(item("mood", starts_on="2026-12-02")),
        )
        walk(
            app,
            clock,
            utc(2026, 12, 2, 5, 0),  # midnight in New York
            utc(2026, 12, 5, 23, 0),  # midnight in Berlin
            {
                utc(2026, 12, 4, 2, 0): lambda: move_patient(
                    client, clock, world.clinician, world.patient, "Europe/Berlin"
                )
            },
        )

    sent = reminders(app, world.patient, "UTC")
    assert [(r.occurrence, r.number, r.local.replace(tzinfo=None)) for r in sent] == [
        (date(2026, 12, 2), 1, datetime(2026, 12, 2, 14)),
        (date(2026, 12, 2), 2, datetime(2026, 12, 2, 18)),
        (date(2026, 12, 3), 1, datetime(2026, 12, 3, 14)),
        (date(2026, 12, 3), 2, datetime(2026, 12, 3, 18)),
        (date(2026, 12, 4), 1, datetime(2026, 12, 4, 8)),
        (date(2026, 12, 4), 2, datetime(2026, 12, 4, 12)),
        (date(2026, 12, 5), 1, datetime(2026, 12, 5, 8)),
        (date(2026, 12, 5), 2, datetime(2026, 12, 5, 12)),
    ]


@pytest.mark.parametrize(
    ("first", "second", "moved_at"),
    [
        # West after both of Berlin's reminders (08:00 and 12:00 UTC): New York's 09:00 and
        # 13:00 that same local day are the same occurrence, already reminded twice.
        ("Europe/Berlin", "America/New_York", utc(2026, 12, 3, 12, 30)),
        # East after New York's first (14:00 UTC): Berlin's 13:00 is past, so its second comes
        # at once (16:00 Berlin), and no more that day.
        ("America/New_York", "Europe/Berlin", utc(2026, 12, 3, 14, 30)),
    ],
)
def test_a_move_during_the_day_never_makes_more_than_two_reminders_that_day(
    app, client, world, first, second, moved_at
):
    with frozen(app, utc(2026, 12, 2, 4, 0)) as clock:
        move_patient(client, clock, world.clinician, world.patient, first)
        put_plan(
            client,
            clock.headers(world.clinician),
            world.patient.id,
            plan(item("mood", starts_on="2026-12-02")),
        )
        walk(
            app,
            clock,
            utc(2026, 12, 3, 0, 0),
            utc(2026, 12, 4, 5, 0),
            {moved_at: lambda: move_patient(client, clock, world.clinician, world.patient, second)},
        )

    sent = reminders(app, world.patient, "UTC")
    on_the_3rd = [r for r in sent if r.occurrence == date(2026, 12, 3)]
    assert [r.number for r in on_the_3rd] == [1, 2]
    for reminder in on_the_3rd:
        zone = first if reminder.local < moved_at else second
        assert QUIET_ENDS <= reminder.local.astimezone(ZoneInfo(zone)).time() < QUIET_STARTS
