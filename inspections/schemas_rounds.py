"""Schemas of the checklists and rounds endpoints. Request bodies are strict (inspections.schemas.StrictIn);
outputs list their fields explicitly."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field, model_validator

from inspections.models import ChecklistItem, ChecklistVersion, Round, RoundStop
from inspections.schemas import StrictIn

# --- checklists --------------------------------------------------------------------------------


class CategoryRef(BaseModel):
    code: str
    name_ar: str
    name_en: str


class ChoiceOption(BaseModel):
    value: str = Field(description="The value a visit sends as its answer")
    label_ar: str = Field(description="What the inspector reads in Arabic (the value itself when no label is set)")
    label_en: str = Field(description="What the inspector reads in English (the value itself when no label is set)")
    fails: bool = Field(description="Answering this value fails the item")


class ChecklistItemOut(BaseModel):
    id: int
    code: str
    position: int
    text_ar: str
    text_en: str
    answer_type: str = Field(description="yes_no_na, number or choice")
    choices: list[str] = Field(description="Choice items: the allowed values")
    failing_choices: list[str] = Field(description="Choice items: the values that fail the item")
    choice_options: list[ChoiceOption] = Field(
        description="Choice items: every allowed value in order, with its Arabic and English label; empty otherwise"
    )
    min_value: float | None = Field(description="Number items: a value below this fails")
    max_value: float | None = Field(description="Number items: a value above this fails")
    unit: str
    severity: str = Field(description="minor, major or critical")
    fine_sar: Decimal
    photo_required_on_fail: bool
    required: bool
    categories: list[str] = Field(description="Category codes the item applies to; empty: every category")

    @classmethod
    def of(cls, item: ChecklistItem) -> "ChecklistItemOut":
        return cls(
            id=item.pk,
            code=item.code,
            position=item.position,
            text_ar=item.text_ar,
            text_en=item.text_en,
            answer_type=item.answer_type,
            choices=[str(choice) for choice in item.choices or []],
            failing_choices=[str(choice) for choice in item.failing_choices or []],
            choice_options=_choice_options(item),
            min_value=item.min_value,
            max_value=item.max_value,
            unit=item.unit,
            severity=item.severity,
            fine_sar=item.fine_sar,
            photo_required_on_fail=item.photo_required_on_fail,
            required=item.required,
            categories=sorted(category.code for category in item.categories.all()),
        )


def _choice_options(item: ChecklistItem) -> list[ChoiceOption]:
    labels = item.choice_labels or {}
    failing = {str(choice) for choice in item.failing_choices or []}
    options = []
    for choice in item.choices or []:
        value = str(choice)
        label = labels.get(value) or {}
        options.append(
            ChoiceOption(
                value=value,
                label_ar=label.get("ar") or value,
                label_en=label.get("en") or value,
                fails=value in failing,
            )
        )
    return options


class ChecklistVersionOut(BaseModel):
    id: int
    checklist_id: int
    checklist_code: str
    number: int
    status: str = Field(description="draft, published or retired")
    published_at: datetime | None
    notes: str
    items: list[ChecklistItemOut]

    @classmethod
    def of(cls, version: ChecklistVersion) -> "ChecklistVersionOut":
        return cls(
            id=version.pk,
            checklist_id=version.checklist_id,
            checklist_code=version.checklist.code,
            number=version.number,
            status=version.status,
            published_at=version.published_at,
            notes=version.notes,
            items=[ChecklistItemOut.of(item) for item in version.items.all()],
        )


class PublishedVersionSummary(BaseModel):
    id: int
    number: int
    published_at: datetime | None
    item_count: int


class ChecklistSummaryOut(BaseModel):
    id: int
    code: str
    name_ar: str
    name_en: str
    description_ar: str
    description_en: str
    is_active: bool
    categories: list[CategoryRef]
    published_version: PublishedVersionSummary | None

    @classmethod
    def of(cls, checklist) -> "ChecklistSummaryOut":
        published = checklist.published[0] if getattr(checklist, "published", None) else None
        return cls(
            id=checklist.pk,
            code=checklist.code,
            name_ar=checklist.name_ar,
            name_en=checklist.name_en,
            description_ar=checklist.description_ar,
            description_en=checklist.description_en,
            is_active=checklist.is_active,
            categories=[
                CategoryRef(code=category.code, name_ar=category.name_ar, name_en=category.name_en)
                for category in checklist.categories.all()
            ],
            published_version=PublishedVersionSummary(
                id=published.pk,
                number=published.number,
                published_at=published.published_at,
                item_count=getattr(published, "item_count", len(published.items.all())),
            )
            if published
            else None,
        )


class ChecklistDetailOut(ChecklistSummaryOut):
    published_version_detail: ChecklistVersionOut | None = Field(
        description="The published version with its items (null when nothing is published yet)"
    )

    @classmethod
    def of(cls, checklist) -> "ChecklistDetailOut":
        summary = ChecklistSummaryOut.of(checklist)
        published = checklist.published[0] if getattr(checklist, "published", None) else None
        return cls(
            **summary.model_dump(),
            published_version_detail=ChecklistVersionOut.of(published) if published else None,
        )


# --- rounds ------------------------------------------------------------------------------------


class RoundIn(StrictIn):
    """POST rounds. The stops are visited in the order given, unless `optimize_route`."""

    inspector_id: int = Field(ge=1)
    date: date
    checklist_id: int = Field(ge=1)
    establishment_ids: list[int] = Field(min_length=1, max_length=60)
    optimize_route: bool = True
    notes: str = Field(default="", max_length=2000)

    @model_validator(mode="before")
    @classmethod
    def _date_from_json(cls, value):
        # Strict mode accepts dates only as date objects; JSON carries them as ISO strings.
        if isinstance(value, dict) and isinstance(value.get("date"), str):
            try:
                value = {**value, "date": date.fromisoformat(value["date"])}
            except ValueError as error:
                raise ValueError("date must be an ISO 8601 date (YYYY-MM-DD).") from error
        return value


class RoundPatch(StrictIn):
    """PATCH rounds/{id}: any of these; `status: "cancelled"` cancels (on its own)."""

    inspector_id: int | None = Field(default=None, ge=1, description="Reassign to this inspector")
    stop_ids: list[int] | None = Field(
        default=None, max_length=60, description="A permutation of the current (non-cancelled) stop ids"
    )
    add_establishment_ids: list[int] = Field(default_factory=list, max_length=60)
    remove_stop_ids: list[int] = Field(default_factory=list, max_length=60)
    optimize_route: bool = Field(default=False, description="Re-order the pending stops by a short tour")
    status: str | None = Field(default=None, pattern="^cancelled$", description='Only "cancelled"')
    notes: str | None = Field(default=None, max_length=2000)


class EstablishmentBrief(BaseModel):
    id: int
    name_ar: str
    name_en: str
    category: str
    licence_no: str
    address: str
    lat: float
    lon: float


class StopOut(BaseModel):
    id: int
    position: int
    status: str = Field(description="pending, visited, missed or cancelled")
    is_follow_up: bool
    updated_at: datetime
    establishment: EstablishmentBrief

    @classmethod
    def of(cls, stop: RoundStop) -> "StopOut":
        establishment = stop.establishment
        return cls(
            id=stop.pk,
            position=stop.position,
            status=stop.status,
            is_follow_up=stop.is_follow_up,
            updated_at=stop.updated_at,
            establishment=EstablishmentBrief(
                id=establishment.pk,
                name_ar=establishment.name_ar,
                name_en=establishment.name_en,
                category=establishment.category.code,
                licence_no=establishment.licence_no,
                address=establishment.address,
                lat=establishment.lat,
                lon=establishment.lon,
            ),
        )


class RoundSummaryOut(BaseModel):
    id: int
    date: date
    municipality_id: int
    inspector_id: int
    inspector_username: str
    checklist_id: int
    checklist_version_id: int | None = Field(description="The checklist's published version, used by the visits")
    status: str = Field(description="planned, in_progress, done, partly_done or cancelled")
    route_optimized: bool
    tour_length_m: float | None = Field(description="Geodesic length of the path through the stops, in order")
    notes: str
    stop_count: int
    visited_count: int
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None

    @classmethod
    def fields_of(cls, round: Round, version_ids: dict[int, int]) -> dict:
        stops = [stop for stop in round.stops.all() if stop.status != RoundStop.Status.CANCELLED]
        return {
            "id": round.pk,
            "date": round.date,
            "municipality_id": round.municipality_id,
            "inspector_id": round.inspector_id,
            "inspector_username": round.inspector.get_username(),
            "checklist_id": round.checklist_id,
            "checklist_version_id": version_ids.get(round.checklist_id),
            "status": round.status,
            "route_optimized": round.route_optimized,
            "tour_length_m": round.tour_length_m,
            "notes": round.notes,
            "stop_count": len(stops),
            "visited_count": sum(1 for stop in stops if stop.status == RoundStop.Status.VISITED),
            "created_at": round.created_at,
            "updated_at": round.updated_at,
            "cancelled_at": round.cancelled_at,
        }

    @classmethod
    def of(cls, round: Round, version_ids: dict[int, int]) -> "RoundSummaryOut":
        return cls(**cls.fields_of(round, version_ids))


class RoundOut(RoundSummaryOut):
    """A round with its stops in route order (cancelled stops last, so the phone can drop them)."""

    stops: list[StopOut]

    @classmethod
    def of(cls, round: Round, version_ids: dict[int, int]) -> "RoundOut":
        stops = sorted(round.stops.all(), key=lambda stop: (stop.position, stop.pk))
        return cls(**cls.fields_of(round, version_ids), stops=[StopOut.of(stop) for stop in stops])


class MeRoundsOut(BaseModel):
    """The delta-sync answer. Store `cursor` and send it back as `updated_since` next time."""

    cursor: datetime = Field(description="Pass back as updated_since on the next sync")
    server_time: datetime
    full: bool = Field(description="True when no updated_since was given: the answer is the whole current set")
    rounds: list[RoundOut] = Field(description="Rounds of yours created, changed or cancelled since the cursor")
    removed_round_ids: list[int] = Field(
        description="Rounds reassigned away from you since the cursor: delete them from the phone"
    )
