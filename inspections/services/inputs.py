"""Service inputs that phones and supervisors send: one visit as recorded (`visit_sync`) and an
amendment's changes (`visit_amend`). The API validates request bodies with them too."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BeforeValidator, Field

from backend.api_basics import MAX_ID, IsoDateTime, StrictIn, StrictNestedIn
from inspections.domain.answers import bounded_answer_value


def _text_only(value: Any) -> Any:
    # Strict mode refuses strings for UUIDs when the input is an already-parsed dict;
    # accept only strings (never numbers) and let the lax parser read them.
    if not isinstance(value, str):
        raise ValueError("Expected a string.")
    return value


TextUUID = Annotated[UUID, Field(strict=False), BeforeValidator(_text_only)]


# The phone's clock, with its UTC offset (a time without one is refused).
def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("Give the time with its UTC offset, e.g. 2026-03-01T08:30:00+03:00.")
    return value


# IsoDateTime refuses dates outside backend/dates.py's span: an unset date some phone frameworks
# send (0001-01-01T00:00:00+14:00, before year 1 in UTC) became a BC date on PostgreSQL and a 500
# on every read. Refused here, for that visit only.
AwareIsoDateTime = Annotated[IsoDateTime, AfterValidator(_aware)]
# A number answer beyond ±1e15 is no measurement (and a 4,001-digit integer cannot even become a float).
AnswerValue = Annotated[bool | int | float | str, AfterValidator(bounded_answer_value)]


class VisitLocationIn(StrictNestedIn):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float = Field(ge=0, le=100_000, description="Horizontal accuracy (68%) reported by the phone, metres")


class AnswerIn(StrictNestedIn):
    item_code: str = Field(min_length=1, max_length=64)
    value: AnswerValue = Field(
        description='yes/no/na items: "yes", "no" or "na"; number items: a finite number within ±1e15;'
        " choice items: one of the choices"
    )
    note: str = Field(default="", max_length=2000)


class VisitSyncIn(StrictIn):
    """One visit as the phone recorded it (device clock, ISO 8601 with a UTC offset)."""

    client_id: TextUUID
    establishment_id: int = Field(ge=1, le=MAX_ID)
    round_stop_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    checklist_version_id: int = Field(ge=1, le=MAX_ID)
    started_at: AwareIsoDateTime
    finished_at: AwareIsoDateTime
    location: VisitLocationIn | None = Field(default=None, description="Absent or null: the phone had no GPS fix")
    outcome: Literal["compliant", "violations", "closed", "refused_entry"]
    answers: list[AnswerIn] = Field(default_factory=list, max_length=500)
    notes: str = Field(default="", max_length=5000)


class AmendmentChangesIn(StrictIn):
    outcome: Literal["compliant", "violations", "closed", "refused_entry"] | None = None
    notes: str | None = Field(default=None, max_length=5000)
    answers: dict[Annotated[str, Field(min_length=1, max_length=64)], AnswerValue] | None = Field(
        default=None, max_length=500
    )
