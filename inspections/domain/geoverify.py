"""Geo-verification of visits: pure functions, no database.

Status of a visit's GPS fix against its establishment (thresholds in settings):

- `no_fix`: the phone sent no location;
- `low_accuracy`: the reported accuracy is worse than GEO_LOW_ACCURACY_M (the distance is
  still computed and stored, but it proves nothing);
- `out_of_range`: the geodesic distance fix → establishment exceeds GEO_VERIFIED_MAX_DISTANCE_M;
- `verified` otherwise.

No accuracy tolerance is added to the distance: a fix whose error circle could reach the
establishment is not "verified", it is either `low_accuracy` (accuracy too poor) or
`out_of_range`. That keeps the rule hand-checkable and the status conservative.

Impossible travel: for each visit, the inspector's previous visit (by `finished_at`, among
stored visits and earlier visits of the same batch) is compared with it. Both need a fix.
speed = geodesic distance between the fixes / (this.started_at - previous.finished_at),
with the time floored at TRAVEL_MIN_SECONDS (overlapping or back-to-back visits count as one
minute, so GPS jitter between neighbouring shops is never flagged). Above
GEO_IMPOSSIBLE_SPEED_KMH the later visit is flagged `impossible_travel`.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from inspections.domain.geo import distance_m

TRAVEL_MIN_SECONDS = 60.0
# Previous visits further back than this cannot make any trip in the Eastern Province "impossible".
TRAVEL_LOOKBACK = timedelta(hours=24)


@dataclass(frozen=True)
class Fix:
    lat: float
    lon: float
    accuracy_m: float


@dataclass(frozen=True)
class GeoResult:
    status: str
    distance_m: float | None


def geo_verify(*, fix: Fix | None, establishment_lat: float, establishment_lon: float) -> GeoResult:
    """The geo status and geodesic distance of a visit's fix from its establishment."""
    if fix is None:
        return GeoResult(status="no_fix", distance_m=None)
    distance = distance_m(fix.lat, fix.lon, establishment_lat, establishment_lon)
    if fix.accuracy_m > settings.GEO_LOW_ACCURACY_M:
        return GeoResult(status="low_accuracy", distance_m=distance)
    if distance > settings.GEO_VERIFIED_MAX_DISTANCE_M:
        return GeoResult(status="out_of_range", distance_m=distance)
    return GeoResult(status="verified", distance_m=distance)


@dataclass(frozen=True)
class TravelPoint:
    """One visit as seen by the impossible-travel check. `key` identifies new visits (None: stored)."""

    key: object
    started_at: datetime
    finished_at: datetime
    lat: float | None
    lon: float | None


def travel_speed_kmh(previous: TravelPoint, current: TravelPoint) -> float | None:
    """The speed needed to go from `previous` to `current`, or None when either has no fix."""
    if previous.lat is None or current.lat is None:
        return None
    distance_km = distance_m(previous.lat, previous.lon, current.lat, current.lon) / 1000
    return distance_km / (_travel_hours(previous, current))


def _travel_hours(previous: TravelPoint, current: TravelPoint) -> float:
    return max((current.started_at - previous.finished_at).total_seconds(), TRAVEL_MIN_SECONDS) / 3600.0


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _too_fast(previous: TravelPoint, current: TravelPoint) -> bool:
    # The spherical distance is within 0.6% of the geodesic one: only trips within 2% of the limit
    # on the sphere need the (100x slower) geodesic to decide, so the answer is always the geodesic one.
    limit = settings.GEO_IMPOSSIBLE_SPEED_KMH
    rough = _haversine_km(previous.lat, previous.lon, current.lat, current.lon) / _travel_hours(previous, current)
    if rough < limit * 0.98:
        return False
    if rough > limit * 1.02:
        return True
    speed = travel_speed_kmh(previous, current)
    return speed is not None and speed > limit


def impossible_travel_keys(*, new: list[TravelPoint], stored: list[TravelPoint]) -> set:
    """The keys of the new visits (one inspector) reached from their previous visit too fast."""
    timeline = sorted([*stored, *new], key=lambda point: (point.finished_at, point.key is not None))
    flagged = set()
    previous_with_fix: TravelPoint | None = None
    for point in timeline:
        if point.lat is None:
            continue
        if (
            point.key is not None
            and previous_with_fix is not None
            and point.finished_at - previous_with_fix.finished_at <= TRAVEL_LOOKBACK
            and _too_fast(previous_with_fix, point)
        ):
            flagged.add(point.key)
        previous_with_fix = point
    return flagged
