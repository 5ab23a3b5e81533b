"""Schemas of the municipalities endpoints."""

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from inspections.models import Municipality


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
