"""Reads of establishments, always scoped through `visible_to`.

The nearby search narrows candidates with H3 (the cells of a `grid_disk` around the point, on the
stored, indexed h3 columns), then measures each candidate's geodesic distance (geo.distance_m) and keeps
those within the radius, nearest first.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Replace

from inspections.domain.geo import distance_m
from inspections.models import Establishment
from inspections.selectors.scope import visible_to

NEAR_MAX_RADIUS_M = 50_000
# Indexed H3 columns usable for the candidate search, finest first.
NEAR_RESOLUTIONS = (9, 7, 5)
NEAR_MAX_RING = 12  # at most 3k(k+1)+1 = 469 cells in the IN (...) list


def visible_establishments(*, user) -> QuerySet[Establishment]:
    return visible_to(Establishment.objects.select_related("category"), user=user)


def establishment_list(
    *, user, municipality_id: int | None = None, category: str | None = None, q: str | None = None
) -> QuerySet[Establishment]:
    """The caller's establishments, filtered. `category` is a code (or a numeric id); `q` matches the
    Arabic and English names and the licence number."""
    queryset = visible_establishments(user=user)
    if municipality_id is not None:
        queryset = queryset.filter(municipality_id=municipality_id)
    if category:
        queryset = (
            queryset.filter(category_id=int(category))
            if category.isdigit() and int(category) < 2**63  # past a bigint it can only be a (strange) code
            else queryset.filter(category__code=category)
        )
    if q:
        words = q.split()
        if any(_ARABIC.search(word) for word in words):
            queryset = queryset.annotate(name_ar_folded=arabic_folded("name_ar"))
        for word in words:
            match = Q(name_en__icontains=word) | Q(licence_no__icontains=word)
            if _ARABIC.search(word):
                match |= Q(name_ar_folded__contains=arabic_fold(word))
            else:
                match |= Q(name_ar__icontains=word)
            queryset = queryset.filter(match)
    return queryset.order_by("id")


# Spellings people type interchangeably in Arabic: hamza forms of alef, taa marbuta / haa, alef maqsura /
# yaa, and the tatweel and short vowels that decorate names. Folded on both sides of the comparison.
ARABIC_FOLDS = (("أ", "ا"), ("إ", "ا"), ("آ", "ا"), ("ٱ", "ا"), ("ة", "ه"), ("ى", "ي"), ("ـ", ""))
ARABIC_MARKS = "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652"
_ARABIC = re.compile("[\u0600-\u06ff]")


def arabic_fold(text: str) -> str:
    for source, target in ARABIC_FOLDS:
        text = text.replace(source, target)
    return "".join(ch for ch in text if ch not in ARABIC_MARKS)


def arabic_folded(field: str):
    """The same folding in SQL (nested REPLACE, portable to SQLite and PostgreSQL)."""
    expression = F(field)
    for source, target in ARABIC_FOLDS:
        expression = Replace(expression, Value(source), Value(target))
    for mark in ARABIC_MARKS:
        expression = Replace(expression, Value(mark), Value(""))
    return expression


@dataclass(frozen=True)
class NearPlan:
    resolution: int
    ring: int
    cells: list[int]


def near_plan(*, lat: float, lon: float, radius_m: float) -> NearPlan:
    """The H3 cells that hold every point within `radius_m` of (lat, lon).

    Neighbouring cell centres are about sqrt(3) edges apart, so k rings reach at least k edges;
    one extra ring covers the origin cell's own extent and the distortion of the grid.
    """
    import h3  # here, not at the top: a web process that never searches near a point never loads it

    for resolution in NEAR_RESOLUTIONS:
        edge = h3.average_hexagon_edge_length(resolution, unit="m")
        ring = math.ceil(radius_m / edge) + 1
        if ring <= NEAR_MAX_RING or resolution == NEAR_RESOLUTIONS[-1]:
            origin = h3.latlng_to_cell(lat, lon, resolution)
            cells = [h3.str_to_int(cell) for cell in h3.grid_disk(origin, ring)]
            return NearPlan(resolution=resolution, ring=ring, cells=cells)
    raise AssertionError("unreachable")


class NearResults(Sequence):
    """Establishments within the radius, nearest first: all the distances are known, but model rows are
    fetched only for the slice asked for (the page), each with a `distance_m` attribute."""

    def __init__(self, queryset: QuerySet[Establishment], measured: list[tuple[float, int]]) -> None:
        self._queryset = queryset
        self._measured = measured

    def __len__(self) -> int:
        return len(self._measured)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            position = range(len(self))[index]
            return self[position : position + 1][0]
        chunk = self._measured[index]
        rows = self._queryset.in_bulk([pk for _distance, pk in chunk])
        page = []
        for distance, pk in chunk:
            establishment = rows[pk]
            establishment.distance_m = round(distance, 1)
            page.append(establishment)
        return page


def establishments_near(queryset: QuerySet[Establishment], *, lat: float, lon: float, radius_m: float) -> NearResults:
    """Establishments of `queryset` within `radius_m` metres (geodesic, WGS-84) of (lat, lon), nearest first.

    The database narrows the candidates twice, both cheap: the H3 cells of the disc (an indexed column)
    and the disc's bounding box; geo.distance_m then measures only those, from (id, lat, lon) tuples.
    """
    plan = near_plan(lat=lat, lon=lon, radius_m=radius_m)
    candidates = queryset.filter(**{f"h3_r{plan.resolution}__in": plan.cells})
    # A degree of latitude is at least 110.574 km and a degree of longitude at least 111.320 km x cos(lat)
    # on the WGS-84 ellipsoid, so this box (with 1 % to spare) holds the whole disc.
    dlat = radius_m * 1.01 / 110_574.0
    candidates = candidates.filter(lat__gte=lat - dlat, lat__lte=lat + dlat)
    cos_lat = math.cos(math.radians(lat))
    if cos_lat > 0.01:
        dlon = radius_m * 1.01 / (111_320.0 * cos_lat)
        if lon - dlon > -180 and lon + dlon < 180:  # no box across the antimeridian
            candidates = candidates.filter(lon__gte=lon - dlon, lon__lte=lon + dlon)
    measured = []
    for pk, candidate_lat, candidate_lon in candidates.values_list("id", "lat", "lon"):
        distance = distance_m(lat, lon, candidate_lat, candidate_lon)
        if distance <= radius_m:
            measured.append((distance, pk))
    measured.sort()
    return NearResults(queryset, measured)
