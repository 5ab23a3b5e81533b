"""Municipalities: the list (no geometry) and one with its boundary as a GeoJSON Feature."""

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from backend.api_basics import ERRORS, Page
from inspections.api.schemas.municipalities import MunicipalityFeature, MunicipalityOut
from inspections.selectors.municipalities import municipality_get, municipality_list

router = Router(tags=["municipalities"])


@router.get("municipalities", response={200: list[MunicipalityOut], **ERRORS})
@paginate(Page)
def municipalities_list(
    request: HttpRequest,
    kind: Literal["amanah", "baladiya"] | None = None,
    mine: bool = Query(False, description="Only the municipalities in the caller's scope"),
):
    """Every municipality, for every signed-in user (not scoped: names and boundaries are reference data,
    the phone needs them to label and draw any place). `mine=true` lists only the caller's own."""
    return municipality_list(user=request.user, kind=kind, in_scope_only=mine)


@router.get("municipalities/{municipality_id}", response={200: MunicipalityFeature, **ERRORS})
def municipality_detail(request: HttpRequest, municipality_id: int):
    """One municipality as a GeoJSON Feature: `geometry` is its boundary, coordinates in (lon, lat) order;
    `properties.boundary_is_demo` is true for the demo's derived boundaries."""
    return MunicipalityFeature.for_municipality(municipality_get(user=request.user, municipality_id=municipality_id))
