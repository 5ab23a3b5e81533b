"""Schemas of the supervisor's console endpoints: inspectors, risk, week plans, reviews, follow-ups,
checklist authoring. Request bodies are strict (StrictIn); outputs list their fields."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

from backend.api_basics import MAX_ID, IsoDate, StrictIn
from inspections.services.inputs import AmendmentChangesIn

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
BodyDate = IsoDate  # ISO text in a strict body (strict mode alone would refuse any JSON date)


def _amount_only(value):
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("Give an amount: a number or a decimal string.")
    return value


# An amount in SAR as a JSON number or decimal text (strict mode would accept only a Decimal object).
Amount = Annotated[
    Decimal, BeforeValidator(_amount_only), Field(strict=False, ge=0, le=Decimal("99999999.99"), decimal_places=2)
]


# --- inspectors and the board -------------------------------------------------------------------


class LastSeenOut(BaseModel):
    at: datetime
    lat: float | None
    lon: float | None
    visit_id: int
    establishment_id: int
    establishment_name: str


class WorkloadOut(BaseModel):
    today_stops: int
    today_visited: int
    today_pending: int
    today_missed: int
    week_stops: int = Field(description="Stops of published rounds in the next seven days")


class InspectorOut(BaseModel):
    id: int
    username: str
    name: str
    municipality_ids: list[int]
    workload: WorkloadOut
    last_seen: LastSeenOut | None


class InspectorPage(BaseModel):
    items: list[InspectorOut]
    count: int


class ConsistencyOut(BaseModel):
    inspector_id: int
    name: str
    visits: int
    observed: int = Field(description="Visits with a violation")
    expected: float = Field(description="Expected from the category rates of the shops visited")
    ratio: float | None = Field(description="observed / expected (indirect standardisation)")
    low: float | None = Field(description="95% interval (Poisson, Byar)")
    high: float | None
    signal: Literal["higher", "lower", "as_expected"]


class FlaggedVisitOut(BaseModel):
    id: int
    establishment_id: int
    establishment_name: str
    inspector_id: int
    inspector_name: str
    municipality_id: int
    finished_at: datetime
    outcome: str
    lat: float | None
    lon: float | None
    geo_distance_m: float | None
    duration_minutes: float
    flags: list[str]
    review_status: str | None = Field(description="answered: the inspector answered a return")


class CriticalFindingOut(BaseModel):
    id: int
    establishment_id: int
    establishment_name: str
    item_code: str
    opened_at: datetime


class BoardOut(BaseModel):
    date: date
    generated_at: datetime
    inspectors: list[InspectorOut]
    critical_findings: list[CriticalFindingOut]
    flagged_visits: list[FlaggedVisitOut]
    flagged_count: int


# --- risk ---------------------------------------------------------------------------------------


class FactorOut(BaseModel):
    name: str
    value: float
    share: float
    weight: float
    points: float


class RiskOut(BaseModel):
    establishment_id: int
    name_ar: str
    name_en: str
    licence_no: str
    category: str
    lat: float
    lon: float
    score: float
    risk_class: Literal["high", "medium", "low"]
    last_inspection: date | None
    due_date: date
    overdue_days: int
    open_findings: int
    follow_up_due: date | None
    factors: list[FactorOut]


class RiskPage(BaseModel):
    items: list[RiskOut]
    count: int


# --- plans ---------------------------------------------------------------------------------------


class PlanIn(StrictIn):
    municipality_id: Id
    week_start: BodyDate | None = Field(default=None, description="A Sunday; default: next week")


class PlanStopOut(BaseModel):
    id: int
    establishment_id: int
    name_ar: str
    name_en: str
    lat: float
    lon: float
    position: int
    status: str
    is_follow_up: bool


class PlanRoundOut(BaseModel):
    id: int
    date: date
    inspector_id: int
    inspector_name: str
    checklist_id: int
    status: str
    is_draft: bool
    tour_length_m: float | None
    stops: list[PlanStopOut]


class PlanOut(BaseModel):
    id: int
    municipality_id: int
    week_start: date
    status: str
    summary: dict
    created_at: datetime
    published_at: datetime | None
    rounds: list[PlanRoundOut]


class PlanSummaryOut(BaseModel):
    id: int
    municipality_id: int
    week_start: date
    status: str
    summary: dict
    created_at: datetime
    published_at: datetime | None


class PlanPage(BaseModel):
    items: list[PlanSummaryOut]
    count: int


class StopMoveIn(StrictIn):
    stop_id: Id
    to_round_id: Id


class PlanSettingsIn(StrictIn):
    high_every_months: int | None = Field(default=None, ge=1, le=60)
    medium_every_months: int | None = Field(default=None, ge=1, le=60)
    low_every_months: int | None = Field(default=None, ge=1, le=60)
    new_licence_days: int | None = Field(default=None, ge=1, le=365)
    high_threshold: float | None = Field(default=None, ge=0, le=100)
    medium_threshold: float | None = Field(default=None, ge=0, le=100)
    daily_capacity: int | None = Field(default=None, ge=1, le=60)
    weekly_auto: bool | None = None


class PlanSettingsOut(BaseModel):
    municipality_id: int
    high_every_months: int
    medium_every_months: int
    low_every_months: int
    new_licence_days: int
    high_threshold: float
    medium_threshold: float
    daily_capacity: int
    weekly_auto: bool


class RecurringIn(StrictIn):
    municipality_id: Id
    establishment_ids: list[Id] = Field(min_length=1, max_length=500)
    every_weeks: int = Field(ge=1, le=52)
    start_week: BodyDate
    inspector_id: Id | None = None


class RecurringOut(BaseModel):
    id: int
    municipality_id: int
    establishment_id: int
    every_weeks: int
    start_week: BodyDate
    inspector_id: int | None


# --- reviews ------------------------------------------------------------------------------------


class ReviewIn(StrictIn):
    action: Literal["accept", "correct", "send_back"]
    reason: str = Field(default="", max_length=2000)
    changes: AmendmentChangesIn | None = None


class ReviewOut(BaseModel):
    visit_id: int
    status: str
    reason: str
    flags: list[str]
    decided_at: datetime
    amendment_id: int | None
    answered_at: datetime | None
    answer_amendment_id: int | None


class ReturnAnswerIn(StrictIn):
    reason: str = Field(min_length=1, max_length=2000)
    changes: AmendmentChangesIn | None = None


class ReturnedVisitOut(BaseModel):
    id: int
    establishment_id: int
    establishment_name: str
    finished_at: datetime
    reason: str
    returned_at: datetime


# --- findings and follow-ups --------------------------------------------------------------------


class OverdueFindingRowOut(BaseModel):
    id: int
    establishment_id: int
    establishment_name: str
    municipality_id: int
    item_code: str
    severity: str
    fine_sar: Decimal
    due_date: date
    days_overdue: int
    follow_up_date: date | None = Field(description="Date of the pending follow-up stop, if one is planned")


class OverduePage(BaseModel):
    items: list[OverdueFindingRowOut]
    count: int


class FollowUpsIn(StrictIn):
    finding_ids: list[Id] = Field(min_length=1, max_length=500)
    inspector_id: Id | None = None
    due_date: BodyDate | None = None


class FollowUpOut(BaseModel):
    finding_id: int
    establishment_id: int
    round_id: int | None
    stop_id: int | None
    date: date | None


# --- checklist authoring -------------------------------------------------------------------------


class ChoiceLabel(StrictIn):
    ar: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)


class ItemIn(StrictIn):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    text_ar: str = Field(min_length=1, max_length=2000)
    text_en: str = Field(min_length=1, max_length=2000)
    answer_type: Literal["yes_no_na", "number", "choice"] = "yes_no_na"
    choices: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=50)
    choice_labels: dict[Annotated[str, Field(min_length=1, max_length=100)], ChoiceLabel] = Field(
        default_factory=dict, max_length=50
    )
    failing_choices: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50
    )
    min_value: float | None = Field(default=None, ge=-1e9, le=1e9)
    max_value: float | None = Field(default=None, ge=-1e9, le=1e9)
    unit: str = Field(default="", max_length=16)
    severity: Literal["minor", "major", "critical"] = "minor"
    fine_sar: Amount = Decimal(0)
    photo_required_on_fail: bool = False
    required: bool = True
    position: int | None = Field(default=None, ge=0, le=10_000)
    category_codes: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=100
    )


class ItemPatch(StrictIn):
    code: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    text_ar: str | None = Field(default=None, min_length=1, max_length=2000)
    text_en: str | None = Field(default=None, min_length=1, max_length=2000)
    answer_type: Literal["yes_no_na", "number", "choice"] | None = None
    choices: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(default=None, max_length=50)
    choice_labels: dict[Annotated[str, Field(min_length=1, max_length=100)], ChoiceLabel] | None = Field(
        default=None, max_length=50
    )
    failing_choices: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, max_length=50
    )
    min_value: float | None = Field(default=None, ge=-1e9, le=1e9)
    max_value: float | None = Field(default=None, ge=-1e9, le=1e9)
    unit: str | None = Field(default=None, max_length=16)
    severity: Literal["minor", "major", "critical"] | None = None
    fine_sar: Amount | None = None
    photo_required_on_fail: bool | None = None
    required: bool | None = None
    position: int | None = Field(default=None, ge=0, le=10_000)
    category_codes: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        default=None, max_length=100
    )


class DraftIn(StrictIn):
    notes: str = Field(default="", max_length=2000)


class ValidationOut(BaseModel):
    version_id: int
    valid: bool
    problems: list[dict]
