"""The course of each patient's symptoms: how far the totals have moved on a given day, and
item answers that add up to a total."""

from __future__ import annotations

import random

from telehealth.demo.plan import Course


def course_factor(course: Course, day: int) -> float:
    """The expected total on `day` as a fraction of the baseline."""
    if course is Course.RESPONDER:
        return 1 - 0.65 * min(day, 28) / 28 - 0.1 * max(day - 28, 0) / 28
    if course is Course.PARTIAL:
        return 1 - 0.4 * min(day, 35) / 35
    if course is Course.SLOW:
        return 1.0 if day < 21 else 1 - 0.55 * (day - 21) / 35
    # Deteriorates: a short lift from the first sessions, then worse than at the start.
    return 1 - 0.2 * day / 14 if day < 14 else 0.8 + 0.75 * (day - 14) / 42


def spread(
    rng: random.Random, total: int, items: int, top: int, fixed: dict[int, int]
) -> list[int]:
    """Item answers (0..top) that sum to `total`, with the `fixed` items set as given."""
    answers = [fixed.get(i, 0) for i in range(items)]
    free = [i for i in range(items) if i not in fixed]
    remaining = max(0, min(total - sum(answers), top * len(free)))
    while remaining:
        open_items = [i for i in free if answers[i] < top]
        answers[rng.choice(open_items)] += 1
        remaining -= 1
    return answers


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
