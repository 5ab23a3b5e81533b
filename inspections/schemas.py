"""Input and output schemas of the inspections API. Request bodies are strict pydantic models
(no lax coercion, unknown fields refused); outputs list their fields explicitly."""

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from inspections.models import Establishment, Municipality
from inspections.selectors.scope import scope_for


class StrictIn(BaseModel):
    """Base of every request body: strict types, unknown fields refused, NUL bytes refused."""

    model_config = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL: refuse it here as a 422 instead of a 500 later.
        if _has_nul(value):
            raise ValueError("Text must not contain NUL characters.")
        return value


def _has_nul(value: Any) -> bool:
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


# For query parameters (which ninja validates in lax mode): ISO 8601 text only, never a number.
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime_only)]


class UserOut(BaseModel):
    id: int
    username: str
    role: str | None
    municipality_ids: list[int]


def user_out(user) -> UserOut:
    scope = scope_for(user)
    return UserOut(
        id=user.pk, username=user.get_username(), role=scope.role, municipality_ids=sorted(scope.municipality_ids)
    )


class MeOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: str | None
    municipality_ids: list[int]
    whole_amanah: bool
    language: str

    @classmethod
    def for_user(cls, user) -> "MeOut":
        scope = scope_for(user)
        membership = getattr(user, "membership", None)
        return cls(
            id=user.pk,
            username=user.get_username(),
            full_name=user.get_full_name(),
            role=scope.role,
            municipality_ids=sorted(scope.municipality_ids),
            whole_amanah=scope.whole_amanah or scope.everything,
            language=membership.language if membership else "ar",
        )


class MunicipalityOut(BaseModel):
    id: int
    code: str
    name_ar: str
    name_en: str
    kind: str
    parent_id: int | None
    centre_lat: float | None
    centre_lon: float | None
    boundary_is_demo: bool

    @model_validator(mode="before")
    @classmethod
    def _from_model(cls, value: Any) -> Any:
        if isinstance(value, Municipality):
            return {name: getattr(value, name) for name in cls.model_fields}
        return value


class MunicipalityFeature(BaseModel):
    """A GeoJSON Feature: the boundary geometry (lon, lat order) with the municipality's fields."""

    type: Literal["Feature"] = "Feature"
    id: int
    geometry: dict | None = Field(description="GeoJSON Polygon or MultiPolygon, coordinates in (lon, lat) order")
    properties: MunicipalityOut

    @classmethod
    def for_municipality(cls, municipality: Municipality) -> "MunicipalityFeature":
        return cls(
            id=municipality.pk,
            geometry=municipality.boundary,
            properties=MunicipalityOut.model_validate(municipality),
        )


class LocationIn(StrictIn):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class EstablishmentIn(StrictIn):
    name_ar: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=200)
    category: str = Field(min_length=1, max_length=32, description="Category code (e.g. grocery, bakery)")
    licence_no: str = Field(min_length=1, max_length=64, description="Licence / commercial registration number")
    address: str = Field(default="", max_length=300)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    municipality_id: int | None = Field(
        default=None, description="Overrides point-in-polygon when given; must be in the caller's scope"
    )


class EstablishmentPatch(StrictIn):
    """Only the fields sent are changed. `municipality_id: null` drops a manual override (point-in-polygon again)."""

    name_ar: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, min_length=1, max_length=32)
    address: str | None = Field(default=None, max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    municipality_id: int | None = None
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
