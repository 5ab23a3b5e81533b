"""The span of dates Jawla accepts, anywhere: a pure leaf (no app, no Django), imported by the API
basics (query parameters) and by the domain (visit clocks, EXIF capture times, the calendar).

Outside this span Python and the databases disagree: PostgreSQL stores BC dates that Python cannot
read back, Python's datetime stops at years 1 and 9999, and "the day after 9999-12-31" overflows.
Every such value is refused (or, for evidence such as an EXIF capture time, dropped) at the edge."""

from datetime import date, datetime

EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)


def day_supported(day: date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


def datetime_supported(moment: datetime) -> bool:
    """Whether a (naive or aware) datetime lies in the span. Compares the year only, so it never
    converts between offsets (0001-01-01T00:00+14:00 in UTC is before year 1: an OverflowError)."""
    return EARLIEST_DAY.year <= moment.year <= LATEST_DAY.year


def supported_span_text() -> str:
    return f"{EARLIEST_DAY.isoformat()} .. {LATEST_DAY.isoformat()}"
