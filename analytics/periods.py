"""Covering a range of Riyadh days with the periods the cell roll-ups keep (analytics.models.CellPeriod):
pure date arithmetic, no ORM, so the decomposition is tested on its own (tests/test_analytics_rollups.py).

A period is named by its first day: a calendar quarter and a month by their 1st, an ISO week by its
Monday, a day by itself. The fewer rows a read sums the faster it is, and a coarse row stands for
many fine ones (at r9 a week row replaces about five day rows of the same cell), so a range is
covered by the coarsest pieces that fit inside it: whole quarters, then whole months in what is left
at either end, then whole weeks in what is left of those (a week may straddle a month's or a year's
end: its row holds its seven days whatever their month), then days.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import NamedTuple

ONE_DAY = timedelta(days=1)
# The grains' codes, as stored in CellPeriod.grain.
QUARTER, MONTH, WEEK, DAY = "q", "m", "w", "d"


class Piece(NamedTuple):
    """Consecutive periods of one grain: every `grain` period from `first` to `last` (their first days)."""

    grain: str
    first: date
    last: date


def add_months(day: date, months: int) -> date:
    """The 1st of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_of(day: date) -> date:
    return day.replace(day=1)


def quarter_of(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def week_of(day: date) -> date:
    """The Monday of `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


# grain -> (the first day of the period holding a day, the first day of the next period)
_CALENDAR: dict[str, tuple[Callable[[date], date], Callable[[date], date]]] = {
    QUARTER: (quarter_of, lambda start: add_months(start, 3)),
    MONTH: (month_of, lambda start: add_months(start, 1)),
    WEEK: (week_of, lambda start: start + timedelta(days=7)),
}


def cover(date_from: date, date_to: date, *, grains: Sequence[str]) -> list[Piece]:
    """The pieces, in date order, whose periods add up to exactly the inclusive days
    [date_from, date_to]: the whole periods of the coarsest of `grains` (coarsest first, from
    QUARTER, MONTH, WEEK) inside the range, the same recursively with the finer grains on what is
    left before and after them, and days for the rest. Empty when date_from > date_to."""
    if date_from > date_to:
        return []
    if not grains:
        return [Piece(DAY, date_from, date_to)]
    grain, finer = grains[0], grains[1:]
    start_of, next_of = _CALENDAR[grain]
    first = start_of(date_from)
    if first < date_from:
        first = next_of(first)
    end = start_of(date_to + ONE_DAY)  # the first period not wholly inside
    if first >= end:
        return cover(date_from, date_to, grains=finer)
    last = start_of(end - ONE_DAY)
    return [
        *cover(date_from, first - ONE_DAY, grains=finer),
        Piece(grain, first, last),
        *cover(end, date_to, grains=finer),
    ]
