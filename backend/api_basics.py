"""The API basics every app's routers and schemas share: the error answer, the one paginator, the strict
request-body base and the ISO date/time types.

A leaf: it imports nothing of the apps and nothing of `backend/api.py` (the composition root that
imports the apps' routers), so any router module can be imported first, on its own.
"""

import re
from datetime import date, datetime
from typing import Annotated, Any

from ninja import Field as NinjaField
from ninja import Schema
from ninja.pagination import LimitOffsetPagination
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from backend import dates

# --- errors ---------------------------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str
    code: str
    errors: list[dict] | None = None


# The error answers every operation may give; declared once so the OpenAPI schema lists them.
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def error_body(message: str, *, code: str, errors: list | None = None) -> dict:
    """The JSON envelope of every error answer: `{"detail", "code", "errors"?}` (handlers and middleware)."""
    body: dict[str, Any] = {"detail": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return body


# --- pagination -----------------------------------------------------------------------------------

MAX_LIMIT = 200
MAX_ID = 2**63 - 1  # bigint: the largest id a query or body may name


class Page(LimitOffsetPagination):
    """`limit` (1..200, default 50) and `offset`; the answer is `{items, count}`. The one paginator."""

    class Input(Schema):
        limit: int = NinjaField(50, ge=1, le=MAX_LIMIT)
        offset: int = NinjaField(0, ge=0, le=10_000_000)

    class Output(Schema):
        items: list[Any]
        count: int

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)


class MappedList:
    """A queryset whose rows become output schemas after the paginator slices it (only one page is built).

    `mapper` builds one row; `page_mapper` builds a whole page at once (when the page needs one batched
    query, e.g. the published versions of its rounds)."""

    def __init__(self, queryset, mapper=None, *, page_mapper=None):
        self.queryset, self.mapper, self.page_mapper = queryset, mapper, page_mapper

    def __len__(self) -> int:
        return self.queryset.count()

    def __getitem__(self, item):
        rows = self.queryset[item]
        if self.page_mapper is not None:
            return self.page_mapper(list(rows))
        return [self.mapper(row) for row in rows]


# --- request bodies -------------------------------------------------------------------------------


class StrictIn(BaseModel):
    """Base of every request body: strict types, unknown fields refused, NUL bytes refused."""

    model_config = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL: refuse it here as a 422 instead of a 500 later.
        if has_nul(value):
            raise ValueError("Text must not contain NUL characters.")
        return value


class StrictNestedIn(BaseModel):
    """Strict like StrictIn, for objects nested in a StrictIn body (whose NUL check already covers them)."""

    model_config = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=True)


def has_nul(value: Any) -> bool:
    """Whether a NUL character is anywhere in `value` (text, keys, nested lists and objects)."""
    # Iterative, with no depth limit: a NUL nested deep inside a free-form JSON answer reaches
    # PostgreSQL's jsonb just the same (a 500), and recursion would not survive hostile nesting.
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            if "\x00" in current:
                return True
        elif isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, list | tuple):
            stack.extend(current)
    return False


# --- ISO 8601 dates and times ---------------------------------------------------------------------

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?$")


def _iso_date_only(value: Any) -> Any:
    # pydantic's lax mode reads numbers as Unix timestamps (`?date_to=0` is 1970-01-01): refuse them.
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("Use an ISO 8601 date: YYYY-MM-DD.")
    if isinstance(value, int | float | bool):
        raise ValueError("Use an ISO 8601 date: YYYY-MM-DD.")
    return value


def _iso_datetime_only(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATETIME.match(value):
        raise ValueError("Use an ISO 8601 date and time, e.g. 2026-03-01T08:30:00+03:00.")
    if isinstance(value, int | float | bool):
        raise ValueError("Use an ISO 8601 date and time, e.g. 2026-03-01T08:30:00+03:00.")
    return value


# ISO 8601 text only, never a number (pydantic's lax mode would read one as a Unix timestamp). For query
# parameters (validated in lax mode) and for strict bodies alike (strict=False lets the text be parsed).
def _supported_day(value: date) -> date:
    # 0001-01-01 or 9999-12-31 overflowed "the day after" or a time-zone conversion (a 500).
    if not dates.day_supported(value):
        raise ValueError(f"Dates must lie in {dates.supported_span_text()}.")
    return value


def _supported_datetime(value: datetime) -> datetime:
    if not dates.datetime_supported(value):
        raise ValueError(f"Dates must lie in {dates.supported_span_text()}.")
    return value


def _local_if_naive(value: datetime) -> datetime:
    # Without an offset, the time is Asia/Riyadh's (comparing naive with aware times was a 500).
    from django.utils import timezone

    return value if value.tzinfo is not None else timezone.make_aware(value)


# ISO 8601 text only (never a number), within the accepted span of dates (backend/dates.py): a 422
# outside it. IsoCursor is the exception: a sync cursor is clamped by its reader (an ancient or
# future cursor can only return more), never refused.
IsoDate = Annotated[date, Field(strict=False), BeforeValidator(_iso_date_only), AfterValidator(_supported_day)]
IsoDateTime = Annotated[
    datetime, Field(strict=False), BeforeValidator(_iso_datetime_only), AfterValidator(_supported_datetime)
]
LocalIsoDateTime = Annotated[IsoDateTime, AfterValidator(_local_if_naive)]
IsoCursor = Annotated[datetime, Field(strict=False), BeforeValidator(_iso_datetime_only)]
