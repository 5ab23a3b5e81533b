"""Establishments: the scoped register with filters and the nearby search."""

import math
import re

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from backend.api_basics import ERRORS, ErrorOut, Page
from backend.exceptions import ValidationFailedError
from inspections.api.schemas.establishments import EstablishmentIn, EstablishmentOut, EstablishmentPatch
from inspections.selectors.establishments import (
    NEAR_MAX_RADIUS_M,
    establishment_list,
    establishments_near,
    visible_establishments,
)
from inspections.services.establishments import establishment_create, establishment_update

router = Router(tags=["establishments"])

_NEAR = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")
DEFAULT_RADIUS_M = 1000


def _parse_near(near: str) -> tuple[float, float]:
    match = _NEAR.match(near)
    if not match:
        raise ValidationFailedError(
            _("near must be 'lat,lon' in decimal degrees, e.g. 26.4207,50.0888."), loc=["query", "near"]
        )
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (math.isfinite(lat) and -90 <= lat <= 90 and math.isfinite(lon) and -180 <= lon <= 180):
        raise ValidationFailedError(
            _("near is out of range: latitude -90..90, longitude -180..180."), loc=["query", "near"]
        )
    return lat, lon


@router.get("establishments", response={200: list[EstablishmentOut], **ERRORS})
@paginate(Page)
def establishments_list(
    request: HttpRequest,
    municipality: int | None = Query(None, ge=1, le=2**62, description="Municipality id"),
    category: str | None = Query(None, max_length=32, pattern=r"^[\w-]+$", description="Category code (or id)"),
    q: str | None = Query(None, max_length=100, description="Words of the Arabic/English name or licence no."),
    near: str | None = Query(None, max_length=64, description="lat,lon: nearest first, with distance_m"),
    radius_m: float | None = Query(
        None, gt=0, le=NEAR_MAX_RADIUS_M, description=f"Radius of `near` in metres (default {DEFAULT_RADIUS_M})"
    ),
):
    """The caller's establishments (scoped), filtered by municipality, category and `q`.

    With `near=lat,lon` only those within `radius_m` metres (geodesic, WGS-84) are listed, nearest
    first, each with `distance_m`.
    """
    if radius_m is not None and near is None:
        raise ValidationFailedError(_("radius_m needs near=lat,lon."), loc=["query", "radius_m"])
    queryset = establishment_list(user=request.user, municipality_id=municipality, category=category, q=q)
    if near is None:
        return queryset
    lat, lon = _parse_near(near)
    return establishments_near(queryset, lat=lat, lon=lon, radius_m=radius_m or DEFAULT_RADIUS_M)


@router.post("establishments", response={201: EstablishmentOut, 409: ErrorOut, **ERRORS})
def establishments_create(request: HttpRequest, body: EstablishmentIn):
    """Register an establishment (supervisors and admins, within their scope; inspectors and leadership
    get a 403). The municipality is found from the location unless `municipality_id` is given. A licence
    number that is already registered is a 409."""
    establishment = establishment_create(user=request.user, **body.model_dump())
    return Status(201, EstablishmentOut.model_validate(establishment))


@router.get("establishments/{establishment_id}", response={200: EstablishmentOut, **ERRORS})
def establishment_detail(request: HttpRequest, establishment_id: int):
    """One establishment; another municipality's is a 404."""
    return get_object_or_404(visible_establishments(user=request.user), pk=establishment_id)


@router.patch("establishments/{establishment_id}", response={200: EstablishmentOut, **ERRORS})
def establishment_patch(request: HttpRequest, establishment_id: int, body: EstablishmentPatch):
    """Change an establishment (supervisors and admins). Only the fields sent change; a new location finds
    the municipality again unless it was set by hand; `municipality_id: null` drops a manual override."""
    establishment = get_object_or_404(visible_establishments(user=request.user), pk=establishment_id)
    establishment = establishment_update(
        user=request.user, establishment=establishment, changes=body.model_dump(exclude_unset=True)
    )
    return EstablishmentOut.model_validate(establishment)
