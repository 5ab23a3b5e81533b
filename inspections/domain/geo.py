"""Geometry helpers: H3 cells, point-in-polygon on municipality boundaries, geodesic distance,
and boundary validation/repair. Points are (lat, lon); GeoJSON is (lon, lat).

shapely (and numpy, which it loads: ~17 MiB of RSS together), h3 and geographiclib (~3 MiB) are
imported by the functions that use them, not here: every web process imports this module, and most
of them never touch a boundary or a point (the CSV export's workers among them)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry
    from shapely.prepared import PreparedGeometry


def h3_cells(lat: float, lon: float) -> dict[str, int]:
    """The H3 cell containing the point at every stored resolution, as integers (h3_r5 .. h3_r9).

    Each resolution is computed from the point itself: H3 is not exactly nested, so the parent of
    the r9 cell is a neighbour of the containing cell for several percent of points."""
    import h3

    return {
        f"h3_r{resolution}": h3.str_to_int(h3.latlng_to_cell(lat, lon, resolution))
        for resolution in settings.H3_RESOLUTIONS
    }


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic distance on the WGS-84 ellipsoid, in metres: Karney's algorithm (geographiclib, what
    geopy's `geodesic` wraps), asked for the distance only, ~1.8x faster than through geopy."""
    from geographiclib.geodesic import Geodesic

    return Geodesic.WGS84.Inverse(lat1, lon1, lat2, lon2, Geodesic.DISTANCE)["s12"]


@dataclass(frozen=True)
class CleanBoundary:
    geometry: dict  # GeoJSON geometry, Polygon or MultiPolygon
    repaired: bool
    problem: str  # why it was repaired (empty when valid as given)


class BoundaryError(ValueError):
    pass


def boundary_clean(geometry: dict) -> CleanBoundary:
    """Validate a GeoJSON (Multi)Polygon; repair invalid rings with make_valid and say why."""
    from shapely import make_valid
    from shapely.geometry import mapping, shape
    from shapely.validation import explain_validity

    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise BoundaryError("A boundary must be a GeoJSON Polygon or MultiPolygon.")
    try:
        shp = shape(geometry)
    except Exception as error:  # noqa: BLE001 - shapely raises many kinds on malformed coordinates
        raise BoundaryError(f"Malformed boundary coordinates: {error}") from error
    if shp.is_empty:
        raise BoundaryError("The boundary is empty.")
    minx, miny, maxx, maxy = shp.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise BoundaryError("Boundary coordinates are out of range (expected lon, lat order).")
    if shp.is_valid:
        return CleanBoundary(geometry=dict(mapping(shp)), repaired=False, problem="")
    problem = explain_validity(shp)
    fixed = make_valid(shp)
    polygons = _polygonal_part(fixed)
    if polygons is None or polygons.is_empty:
        raise BoundaryError(f"The boundary is invalid and could not be repaired: {problem}")
    return CleanBoundary(geometry=_as_geojson(polygons), repaired=True, problem=problem)


def _polygonal_part(geom: BaseGeometry) -> BaseGeometry | None:
    from shapely.geometry import MultiPolygon, Polygon

    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    if not parts:
        return None
    polys = []
    for part in parts:
        polys.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    return MultiPolygon(polys) if len(polys) > 1 else polys[0]


def _as_geojson(geom: BaseGeometry) -> dict:
    from shapely.geometry import mapping

    mapped = mapping(geom)
    return {"type": mapped["type"], "coordinates": _lists(mapped["coordinates"])}


def _lists(value):
    if isinstance(value, tuple | list):
        return [_lists(inner) for inner in value]
    return value


class _BoundaryIndex:
    """Prepared municipality geometries, rebuilt when any municipality changes (cached per process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._entries: list[tuple[int, PreparedGeometry, float]] = []

    def _current_stamp(self) -> tuple:
        from django.db.models import Count, Max

        from inspections.models import Municipality

        agg = Municipality.objects.aggregate(n=Count("id"), latest=Max("updated_at"))
        return (agg["n"], agg["latest"])

    def _rebuild(self) -> None:
        from shapely.geometry import shape
        from shapely.prepared import prep

        from inspections.models import Municipality

        entries = []
        for municipality in Municipality.objects.exclude(boundary=None).only("id", "boundary", "kind"):
            if municipality.kind == Municipality.Kind.AMANAH:
                continue  # the Amanah contains its municipalities; a point belongs to the smallest
            geom = shape(municipality.boundary)
            entries.append((municipality.id, prep(geom), geom.area))
        entries.sort(key=lambda entry: entry[2])
        self._entries = entries

    def municipality_at(self, lat: float, lon: float) -> int | None:
        from shapely.geometry import Point

        stamp = self._current_stamp()
        with self._lock:
            if stamp != self._stamp:
                self._rebuild()
                self._stamp = stamp
            entries = self._entries
        point = Point(lon, lat)
        for municipality_id, prepared, _area in entries:
            if prepared.contains(point) or prepared.intersects(point):
                return municipality_id
        return None


boundary_index = _BoundaryIndex()


def municipality_at(lat: float, lon: float) -> int | None:
    """The id of the (smallest) sub-municipality whose boundary holds the point, if any."""
    return boundary_index.municipality_at(lat, lon)
