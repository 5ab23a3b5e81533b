"""Covering a range of Riyadh days with the periods the cell roll-ups keep (analytics.models.CellPeriod):
pure date arithmetic, no ORM, so the decomposition is tested on its own (tests/test_analytics_rollups.py).

A period is named by its first day: a calendar quarter and a month by their 1st, an ISO week by its
Monday, a day by itself. The fewer rows a read sums the faster it is, and a coarse row stands for
many fine ones (at r9 a week row replaces about five day rows of the same cell), so a range is
covered by the coarsest pieces that fit inside it: whole quarters, then whole months in what is left
at either end, then whole weeks in what is left of those (a week may straddle a month's or a year's
end: its row holds its seven days whatever their month), then days.

A month cut by an edge of the range may also be read whole, less the days of it outside the range
(`signed_cover`): the last 365 days on 1 December read December of last year as one month row less
1 December's day rows, not as three weeks and nine days. Which way reads fewer rows depends on the
data: where the same cells come back every day (10M national visits, r9: about 13,500 rows a day,
18,000 a week, 18,150 a month) a month costs little more than a day; where few visits fall in each
cell a month holds many days' rows. The caller passes the rows a period of each grain holds
(analytics.selectors measures them); ROWS_READ is the estimate without them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from typing import NamedTuple

ONE_DAY = timedelta(days=1)
# The grains' codes, as stored in CellPeriod.grain.
QUARTER, MONTH, WEEK, DAY = "q", "m", "w", "d"
# The rows a period of each grain holds, in day rows, when nothing better is known: as many as its
# days (no cell seen twice), so the plain cover is kept unless a month is cut by a day or two.
ROWS_READ = {DAY: 1.0, WEEK: 7.0, MONTH: 30.0, QUARTER: 91.0}


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


def _periods(piece: Piece) -> int:
    """How many periods of its grain a piece stands for."""
    if piece.grain == DAY:
        return (piece.last - piece.first).days + 1
    if piece.grain == WEEK:
        return (piece.last - piece.first).days // 7 + 1
    months = (piece.last.year - piece.first.year) * 12 + piece.last.month - piece.first.month
    return months // 3 + 1 if piece.grain == QUARTER else months + 1


def rows_read(pieces: Sequence[Piece], rows: Mapping[str, float] = ROWS_READ) -> float:
    """The rows reading `pieces` costs, given the `rows` a period of each grain holds."""
    return sum(rows[piece.grain] * _periods(piece) for piece in pieces)


def signed_cover(
    date_from: date, date_to: date, *, grains: Sequence[str], rows: Mapping[str, float] = ROWS_READ
) -> list[tuple[Piece, int]]:
    """Pieces with a sign (+1 add, -1 subtract) whose periods add up to exactly the inclusive days
    [date_from, date_to]: `cover`, or, when that reads fewer `rows` (the rows a period of each grain
    holds), a month cut by an edge of the range read whole less the days of it outside the range
    (covered by the grains finer than a month). Only months are read this way: a quarter cut by an
    edge is read as its whole months. The plain cover unless another reads strictly fewer rows."""
    plain = [(piece, 1) for piece in cover(date_from, date_to, grains=grains)]
    if MONTH not in grains or date_from > date_to:
        return plain
    finer = list(grains[list(grains).index(MONTH) + 1 :])
    left, right = month_of(date_from), month_of(date_to)
    cut_left = date_from != left
    cut_right = add_months(right, 1) - ONE_DAY != date_to
    options = []
    if left == right:
        if cut_left or cut_right:
            options.append(_whole_less(left, date_from, date_to, finer))
    else:
        for whole_left, whole_right in ((True, False), (False, True), (True, True)):
            if (whole_left and not cut_left) or (whole_right and not cut_right):
                continue
            middle_from = add_months(left, 1) if whole_left else date_from
            middle_to = right - ONE_DAY if whole_right else date_to
            options.append(
                [
                    *(_whole_less(left, date_from, date_to, finer) if whole_left else []),
                    *((piece, 1) for piece in cover(middle_from, middle_to, grains=grains)),
                    *(_whole_less(right, date_from, date_to, finer) if whole_right else []),
                ]
            )
    return min([plain, *options], key=lambda pieces: rows_read([piece for piece, _sign in pieces], rows))


def _whole_less(month: date, date_from: date, date_to: date, finer: Sequence[str]) -> list[tuple[Piece, int]]:
    """`month` whole (+1), less (-1) its days before date_from and after date_to."""
    end = add_months(month, 1) - ONE_DAY
    outside = [
        *cover(month, min(date_from - ONE_DAY, end), grains=finer),
        *cover(max(date_to + ONE_DAY, month), end, grains=finer),
    ]
    return [(Piece(MONTH, month, month), 1), *((piece, -1) for piece in outside)]
