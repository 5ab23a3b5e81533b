"""Schemas of the checklists endpoints; outputs list their fields explicitly."""

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from inspections.models import ChecklistItem, ChecklistVersion


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
