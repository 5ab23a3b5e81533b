"""Calendar rules shared by every surface (API, dashboard, PDF, exports): the span of dates the
application accepts, the one Asia/Riyadh time zone and "today" in it, the Sunday-to-Thursday working
week, Asia/Riyadh days as datetime bounds, and the one Hijri calendar.

The Hijri calendar is Umm al-Qura as tabulated by hijridate (1343-1500 AH, 1924-08-01 to
2077-11-16). The dashboard converts with the same table (`hijri_table`), never with the browser's
own Islamic calendar, which disagrees with it outside 2000-2029. Outside the table a date has no
Hijri form here: callers show the Gregorian date alone, never an error and never a guessed Hijri.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from hijridate import Gregorian, Hijri, ummalqura

# The accepted span of dates lives in the leaf `backend.dates` (the API basics need it too).
from backend.dates import EARLIEST_DAY, LATEST_DAY, datetime_supported, day_supported, supported_span_text  # noqa: F401

# The project's time zone (settings.TIME_ZONE names the same zone): rounds, due dates and reports
# count days in it. Asia/Riyadh has no daylight saving time.
RIYADH = ZoneInfo("Asia/Riyadh")
# Python's weekday(): Monday=0 .. Sunday=6. The Saudi working week is Sunday to Thursday.
WEEKEND = frozenset({4, 5})  # Friday, Saturday

HIJRI_FIRST_DAY = date(*ummalqura.GREGORIAN_RANGE[0])
HIJRI_LAST_DAY = date(*ummalqura.GREGORIAN_RANGE[1])
HIJRI_SUFFIX = {"en": " AH", "ar": " هـ"}


def riyadh_today() -> date:
    """Today in Asia/Riyadh (whatever the server's or the request's time zone)."""
    return datetime.now(RIYADH).date()


def next_working_day(day: date) -> date:
    """The first Sunday-to-Thursday day strictly after `day`."""
    candidate = day + timedelta(days=1)
    while candidate.weekday() in WEEKEND:
        candidate += timedelta(days=1)
    return candidate


def local_day_start(day: date, tz: tzinfo = RIYADH) -> datetime:
    """Midnight at the start of `day` in `tz` (Asia/Riyadh has no DST: always a valid instant)."""
    return datetime.combine(day, time.min, tzinfo=tz)


def local_day_bounds(
    *, date_from: date | None, date_to: date | None, tz: tzinfo = RIYADH
) -> tuple[datetime | None, datetime | None]:
    """[start of date_from, start of the day after date_to) in `tz`: inclusive local days."""
    start = local_day_start(date_from, tz) if date_from else None
    end = local_day_start(date_to + timedelta(days=1), tz) if date_to else None
    return start, end


def round_day_covers(
    *,
    round_day: date,
    finished_at: datetime,
    tz: tzinfo,
    tolerance: timedelta,
    follow_up_since: datetime | None = None,
) -> bool:
    """Whether a visit that finished at `finished_at` completes a stop of a round held on `round_day`:
    it finished that day (local days in `tz`), give or take `tolerance` (a visit past midnight).

    A follow-up stop re-checks findings and is due by its round's day: a re-check made earlier, but
    after the findings it re-checks were opened (`follow_up_since`), completes it too."""
    start = local_day_start(round_day, tz) - tolerance
    end = local_day_start(round_day + timedelta(days=1), tz) + tolerance
    if follow_up_since is not None:
        start = min(start, follow_up_since)
    return start <= finished_at < end


# --- Hijri (Umm al-Qura) ------------------------------------------------------------------------


def hijri_of(day: date) -> Hijri | None:
    """The Hijri date of a Gregorian day, or None outside the Umm al-Qura table."""
    if not HIJRI_FIRST_DAY <= day <= HIJRI_LAST_DAY:
        return None
    return Gregorian(day.year, day.month, day.day).to_hijri()


def _language(language: str) -> str:
    return "en" if language.startswith("en") else "ar"


def hijri_label(day: date, *, language: str) -> str | None:
    """`13 Jumada al-Akhirah 1448 AH` / `13 جمادى الآخرة 1448 هـ`; None outside the table."""
    hijri = hijri_of(day)
    if hijri is None:
        return None
    language = _language(language)
    return f"{hijri.day} {hijri.month_name(language)} {hijri.year}{HIJRI_SUFFIX[language]}"


def hijri_iso(day: date) -> str | None:
    """`1448-06-13`; None outside the table."""
    hijri = hijri_of(day)
    return None if hijri is None else f"{hijri.year:04d}-{hijri.month:02d}-{hijri.day:02d}"


def hijri_month_name(year: int, month: int, *, language: str) -> str:
    return Hijri(year, month, 1).month_name(_language(language))


def date_label(day: date, *, language: str) -> str:
    """The Gregorian date with its Hijri date beside it, or the Gregorian date alone outside the table."""
    hijri = hijri_label(day, language=language)
    return day.isoformat() if hijri is None else f"{day.isoformat()} ({hijri})"


def hijri_table(*, language: str) -> dict:
    """What the dashboard needs to convert dates exactly as `hijri_label` does: the Umm al-Qura month
    starts (reduced Julian days, hijridate's own table), the month names and the suffix."""
    language = _language(language)
    return {
        "month_starts": list(ummalqura.MONTH_STARTS),
        "month_offset": ummalqura.HIJRI_OFFSET,
        "months": [Hijri(1445, month, 1).month_name(language) for month in range(1, 13)],
        "suffix": HIJRI_SUFFIX[language],
        "first_day": HIJRI_FIRST_DAY.isoformat(),
        "last_day": HIJRI_LAST_DAY.isoformat(),
    }
