"""When each plan item falls due, in the patient's wall-clock time, as plain functions.

An occurrence is keyed by its local date. It is due from its wall-clock time; a check-in counts
for it if recorded in its window: the whole local day for a daily item, from its due time until
the next occurrence for a weekly or monthly one. Times are computed in the patient's zone and
then moved to UTC, so 09:00 stays 09:00 across daylight-saving changes, and a change of the
patient's time zone moves every future occurrence with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from telehealth.schedules.models import Every


@dataclass(frozen=True)
class Item:
    instrument: str
    every: Every
    at: time
    starts_on: date
    weekday: int | None = None
    day: int | None = None


@dataclass(frozen=True)
class Occurrence:
    instrument: str
    local_date: date
    #: When it falls due, and the window in which a check-in counts for it (UTC).
    due_at: datetime
    starts_at: datetime
    ends_at: datetime


def wall_clock(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`at` on `day` in `zone`, in UTC. A time that does not exist that day (the hour skipped
    when clocks go forward) is read with the offset before the change: 02:30 becomes 03:30."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def falls_on(item: Item, day: date) -> bool:
    if day < item.starts_on:
        return False
    if item.every is Every.WEEK:
        return day.weekday() == item.weekday
    if item.every is Every.MONTH:
        return day.day == item.day
    return True


def _next_date(item: Item, day: date) -> date:
    if item.every is Every.DAY:
        return day + timedelta(days=1)
    if item.every is Every.WEEK:
        return day + timedelta(days=7)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, item.day or 1)


def occurrence_on(item: Item, day: date, zone: ZoneInfo) -> Occurrence:
    due_at = wall_clock(day, item.at, zone)
    following = _next_date(item, day)
    if item.every is Every.DAY:
        starts_at = wall_clock(day, time(0), zone)
        ends_at = wall_clock(following, time(0), zone)
    else:
        starts_at, ends_at = due_at, wall_clock(following, item.at, zone)
    return Occurrence(item.instrument, day, due_at, starts_at, ends_at)


def backwards(item: Item, zone: ZoneInfo, now: datetime) -> Iterator[Occurrence]:
    """The occurrences due at or before `now`, the latest first, back to the plan's start."""
    day = now.astimezone(zone).date() + timedelta(days=1)
    while day >= item.starts_on:
        if falls_on(item, day):
            found = occurrence_on(item, day, zone)
            if found.due_at <= now:
                yield found
        day -= timedelta(days=1)


def current(item: Item, zone: ZoneInfo, now: datetime) -> Occurrence | None:
    """The occurrence due now: fallen due, and its window not yet over."""
    latest = next(backwards(item, zone, now), None)
    return latest if latest is not None and now < latest.ends_at else None


def missed_in_a_row(
    item: Item, zone: ZoneInfo, now: datetime, last_done: datetime | None, enough: int
) -> int:
    """How many of the item's latest occurrences whose windows are over went by with no
    check-in for them (counting stops at `enough`). `last_done` is when the patient last sent a
    check-in that contains the item: every window that began after it was missed."""
    count = 0
    for occurrence in backwards(item, zone, now):
        if occurrence.ends_at > now:
            continue  # still open: not missed yet
        if last_done is not None and last_done >= occurrence.starts_at:
            break
        count += 1
        if count >= enough:
            break
    return count


@dataclass(frozen=True)
class QuietHours:
    """No reminder from `starts` to `ends`, local time (21:00 to 08:00)."""

    starts: time
    ends: time

    def allows(self, local: time) -> bool:
        return self.ends <= local < self.starts


def reminder_times(
    occurrence: Occurrence, zone: ZoneInfo, quiet: QuietHours, second_after: timedelta
) -> list[datetime]:
    """When to remind of an occurrence (UTC): at its due time, or when quiet hours end that
    morning; then once more `second_after` later; each only outside quiet hours, on the
    occurrence's own local day and inside its window."""
    local_due = occurrence.due_at.astimezone(zone)
    first = occurrence.due_at
    if local_due.time() < quiet.ends:
        first = wall_clock(occurrence.local_date, quiet.ends, zone)
    times = []
    for moment in (first, first + second_after):
        local = moment.astimezone(zone)
        if (
            local.date() == occurrence.local_date
            and quiet.allows(local.time())
            and moment < occurrence.ends_at
        ):
            times.append(moment)
    return times
