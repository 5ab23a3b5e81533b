"""Schemas of the community endpoints of /api/v1/. Request bodies are strict; outputs list their fields."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from pydantic import BaseModel, Field

from backend.api_basics import IsoDate, IsoDateTime, StrictIn
from inspections.domain.names import person_name


class CaseOut(BaseModel):
    """A case as supervisors see it: counts of reporters, never their contact details."""

    id: int
    service_code: str
    service_name_ar: str
    service_name_en: str
    establishment_id: int | None
    establishment_name_ar: str | None
    establishment_name_en: str | None
    municipality_id: int
    lat: float
    long: float
    description: str
    state: str = Field(description="new, acknowledged, in_progress, closed or dismissed")
    reporters: int
    volunteers: int = Field(description="Registered volunteers among the reporters (ranked first)")
    opened_at: datetime
    last_reported_at: datetime
    round_stop_id: int | None
    round_id: int | None
    round_date: IsoDate | None = Field(description="The day of the round the case was triaged into")
    inspector_name: str | None = Field(description="The inspector of that round")
    visit_id: int | None
    inspection_outcome: str | None
    violation_count: int | None
    dismissed_reason: str
    photo_url: str | None = Field(
        description="The first reporter's photo (re-encoded, no EXIF), the same image Open311's media_url serves"
    )

    @classmethod
    def of(cls, case, photo_tokens: dict[int, str]) -> CaseOut:
        """`photo_tokens`: {case id: token} for the cases shown, read once (community.selectors.cases.photo_tokens)."""
        token = photo_tokens.get(case.pk)
        round_ = case.round_stop.round if case.round_stop_id else None
        establishment = case.establishment
        return cls(
            id=case.pk,
            service_code=case.service_type.code,
            service_name_ar=case.service_type.name_ar,
            service_name_en=case.service_type.name_en,
            establishment_id=case.establishment_id,
            establishment_name_ar=establishment.name_ar if establishment else None,
            establishment_name_en=establishment.name_en if establishment else None,
            municipality_id=case.municipality_id,
            lat=case.lat,
            long=case.lon,
            description=case.description,
            state=case.state,
            reporters=case.reporters,
            volunteers=case.volunteers,
            opened_at=case.opened_at,
            last_reported_at=case.last_reported_at,
            round_stop_id=case.round_stop_id,
            round_id=round_.pk if round_ else None,
            round_date=round_.date if round_ else None,
            inspector_name=person_name(round_.inspector) if round_ else None,
            visit_id=case.visit_id,
            inspection_outcome=case.visit_outcome if case.state == "closed" else None,
            violation_count=case.visit_violations if case.state == "closed" else None,
            dismissed_reason=case.dismissed_reason,
            photo_url=reverse("community:open311-media", args=[token]) if token else None,
        )


class TriageBody(StrictIn):
    """Into an existing round (`round_id`), or a new round (`inspector_id`, `date`, `checklist_id`)."""

    round_id: int | None = Field(None, ge=1)
    inspector_id: int | None = Field(None, ge=1)
    date: IsoDate | None = Field(None, strict=False, description="YYYY-MM-DD")
    checklist_id: int | None = Field(None, ge=1)
    establishment_id: int | None = Field(None, ge=1, description="Required when the case names no establishment")


class DismissIn(StrictIn):
    reason: str = Field(min_length=1, max_length=2000)


class MyReportOut(BaseModel):
    """A volunteer's own report and the state of its case."""

    id: int
    case_id: int
    service_code: str
    submitted_at: datetime
    state: str
    inspection_outcome: str | None


class TrackRecordOut(BaseModel):
    reports: int
    decided: int
    confirmed: int
    share_confirmed: float | None


class MyReportsOut(BaseModel):
    track_record: TrackRecordOut
    reports: list[MyReportOut]


class SubscriptionIn(StrictIn):
    url: str = Field(min_length=8, max_length=500, pattern=r"^https?://[^\s\x00]+$")
    event_types: list[str] = Field(min_length=1, max_length=20)
    description: str = Field("", max_length=200)


class SubscriptionPatch(StrictIn):
    event_types: list[str] | None = Field(None, min_length=1, max_length=20)
    is_active: bool | None = None


class SubscriptionOut(BaseModel):
    id: int
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    created_at: datetime


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str = Field(description="whsec_… — shown once; verify webhook-signature with it")


class AttemptOut(BaseModel):
    at: datetime
    status_code: int | None
    error: str
    duration_ms: int


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event_type: str
    generation: int
    status: str
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    log: list[AttemptOut]

    @classmethod
    def of(cls, delivery) -> DeliveryOut:
        return cls(
            id=delivery.pk,
            event_id=delivery.event_id,
            event_type=delivery.event.type,
            generation=delivery.generation,
            status=delivery.status,
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
            log=[
                AttemptOut(at=a.at, status_code=a.status_code, error=a.error, duration_ms=a.duration_ms)
                for a in delivery.log.all()
            ],
        )


class ReplayIn(StrictIn):
    """One event (`event_id`) or every event that occurred in [since, until)."""

    event_id: str | None = Field(None, min_length=1, max_length=40)
    since: IsoDateTime | None = Field(None, strict=False)
    until: IsoDateTime | None = Field(None, strict=False)
    subscription_id: int | None = Field(None, ge=1)


class ReplayOut(BaseModel):
    queued: int


class ShopByCodeOut(BaseModel):
    """The establishment behind a shop-front code, for the field app to open its shop card."""

    code: str
    establishment_id: int
    name_ar: str
    name_en: str
