"""Schemas of the establishments endpoints. Request bodies are strict (backend.api_basics.StrictIn)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from backend.api_basics import MAX_ID, StrictIn
from inspections.models import Establishment


class EstablishmentIn(StrictIn):
    name_ar: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=200)
    category: str = Field(min_length=1, max_length=32, description="Category code (e.g. grocery, bakery)")
    licence_no: str = Field(min_length=1, max_length=64, description="Licence / commercial registration number")
    address: str = Field(default="", max_length=300)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    municipality_id: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="Overrides point-in-polygon when given; must be in the caller's scope",
    )


class EstablishmentPatch(StrictIn):
    """Only the fields sent are changed. `municipality_id: null` drops a manual override (point-in-polygon again)."""

    name_ar: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, min_length=1, max_length=32)
    address: str | None = Field(default=None, max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    municipality_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    status: Literal["active", "suspended", "closed"] | None = None


class EstablishmentOut(BaseModel):
    id: int
    name_ar: str
    name_en: str
    category: str
    category_name_ar: str
    category_name_en: str
    licence_no: str
    address: str
    lat: float
    lon: float
    municipality_id: int
    municipality_overridden: bool
    status: str
    risk_score: float
    updated_at: datetime
    distance_m: float | None = Field(default=None, description="Geodesic distance from `near`, when it was given")

    @model_validator(mode="before")
    @classmethod
    def _from_model(cls, value: Any) -> Any:
        if isinstance(value, Establishment):
            category = value.category
            return {
                "id": value.pk,
                "name_ar": value.name_ar,
                "name_en": value.name_en,
                "category": category.code,
                "category_name_ar": category.name_ar,
                "category_name_en": category.name_en,
                "licence_no": value.licence_no,
                "address": value.address,
                "lat": value.lat,
                "lon": value.lon,
                "municipality_id": value.municipality_id,
                "municipality_overridden": value.municipality_overridden,
                "status": value.status,
                "risk_score": value.risk_score,
                "updated_at": value.updated_at,
                "distance_m": getattr(value, "distance_m", None),
            }
        return value
