"""Municipality boundaries: import and update from a GeoJSON FeatureCollection.

Real boundary files are messy: property names vary (`name_ar`, `NAME_AR`, `Arabic Name`, ...),
geometries come as GeometryCollections with stray points, and rings are invalid (holes outside
their shell, bow-ties). Each feature is validated with shapely; invalid rings are repaired with
`make_valid` (inspections.domain.geo.boundary_clean) and reported; a feature that cannot be used is
refused with a reason, and never stops the others.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError
from inspections.domain.geo import BoundaryError, boundary_clean
from inspections.models import Municipality

# Normalised property names (lower case, letters and digits only) tried in order.
CODE_KEYS = ("code", "municipalitycode", "municode", "baladiyacode", "regioncode", "districtcode", "id", "fid")
NAME_AR_KEYS = ("namear", "arabicname", "namearabic", "arname", "nameara", "arabic", "الاسم", "اسم", "الاسمبالعربي")
NAME_EN_KEYS = ("nameen", "englishname", "nameenglish", "enname", "nameeng", "english", "name")
CENTRE_KEYS = ("center", "centre", "centroid")

# Bidi marks, zero-width characters and the Arabic tatweel that real files carry inside names.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u0640]")
_SPACES = re.compile(r"\s+")
_ARABIC = re.compile("[\u0600-\u06ff]")


@dataclass(frozen=True)
class FeatureProblem:
    index: int  # position of the feature in the file, from 1
    code: str
    reason: str


@dataclass
class MunicipalityImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    repaired: list[FeatureProblem] = field(default_factory=list)
    refused: list[FeatureProblem] = field(default_factory=list)
    notes: list[FeatureProblem] = field(default_factory=list)  # accepted, with something worth knowing
    amanah_created: bool = False
    dry_run: bool = False

    @property
    def imported(self) -> int:
        return len(self.created) + len(self.updated)


def clean_text(value: Any) -> str:
    """A property value as a clean one-line string (NFC, no invisible marks, single spaces)."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = _INVISIBLE.sub("", text).replace("\x00", "")
    return _SPACES.sub(" ", text).strip()


def _norm_key(key: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", str(key)).lower() if ch.isalnum())


def _pick(properties: dict[str, Any], keys: tuple[str, ...]) -> Any:
    normalised = {}
    for key, value in properties.items():
        normalised.setdefault(_norm_key(key), value)
    for key in keys:
        value = normalised.get(key)
        if value not in (None, ""):
            return value
    return None


def _polygonal_geometry(geometry: Any) -> tuple[dict | None, int]:
    """The (Multi)Polygon in a feature's geometry and how many non-polygon parts were dropped.

    Real files wrap the boundary in a GeometryCollection with a label point beside it.
    """
    if not isinstance(geometry, dict):
        return None, 0
    kind = geometry.get("type")
    if kind in ("Polygon", "MultiPolygon"):
        return geometry, 0
    if kind != "GeometryCollection":
        return None, 0
    polygons: list[list] = []
    dropped = 0
    for part in geometry.get("geometries") or []:
        part_kind = part.get("type") if isinstance(part, dict) else None
        if part_kind == "Polygon":
            polygons.append(part.get("coordinates"))
        elif part_kind == "MultiPolygon":
            polygons.extend(part.get("coordinates") or [])
        else:
            dropped += 1
    if not polygons:
        return None, dropped
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}, dropped
    return {"type": "MultiPolygon", "coordinates": polygons}, dropped


def _centre(geometry: dict, properties: dict[str, Any]) -> tuple[float, float]:
    """(lat, lon) of a point inside the boundary: the file's own centre if it lies inside, else the
    centroid if inside, else shapely's representative point (always inside)."""
    from shapely.geometry import Point, shape  # here, not at the top: see inspections.domain.geo

    shp = shape(geometry)
    given = _pick(properties, CENTRE_KEYS)
    if isinstance(given, list | tuple) and len(given) == 2:
        try:
            lon, lat = float(given[0]), float(given[1])
            if shp.covers(Point(lon, lat)):
                return lat, lon
        except (TypeError, ValueError):
            pass
    point = shp.centroid
    if not shp.covers(point):
        point = shp.representative_point()
    return point.y, point.x


def _features(collection: Any) -> list:
    if isinstance(collection, dict) and collection.get("type") == "FeatureCollection":
        features = collection.get("features")
        if isinstance(features, list):
            return features
    if isinstance(collection, dict) and collection.get("type") == "Feature":
        return [collection]
    raise ApplicationError(
        _("The file must be a GeoJSON FeatureCollection with a list of features."), code="not_a_feature_collection"
    )


def _amanah(*, code: str | None) -> tuple[Municipality | None, bool]:
    if code:
        amanah = Municipality.objects.filter(code=code).first()
        if amanah is None:
            # A new deployment: create the Amanah so its municipalities have a parent; rename it in the admin.
            return Municipality.objects.create(
                code=code, name_ar=code, name_en=code, kind=Municipality.Kind.AMANAH
            ), True
        if amanah.kind != Municipality.Kind.AMANAH:
            raise ApplicationError(
                _("%(code)s is a municipality, not an Amanah.") % {"code": code}, code="not_an_amanah"
            )
        return amanah, False
    # No Amanah named: existing municipalities keep their parent; a new one is refused (below), never
    # attached to whichever Amanah happens to exist nor left without one.
    return None, False


def _no_amanah_reason() -> str:
    codes = list(
        Municipality.objects.filter(kind=Municipality.Kind.AMANAH).order_by("code").values_list("code", flat=True)
    )
    return _("A new municipality needs its Amanah: pass --amanah CODE (Amanahs here: %(codes)s).") % {
        "codes": ", ".join(codes) or _("none yet")
    }


@transaction.atomic
def municipalities_import(
    *,
    collection: Any,
    amanah_code: str | None = None,
    dry_run: bool = False,
    code_field: str | None = None,
    name_ar_field: str | None = None,
    name_en_field: str | None = None,
) -> MunicipalityImportReport:
    """Create or update sub-municipalities (by `code`) from a GeoJSON FeatureCollection.

    Invalid rings are repaired and reported; features without a usable code, name or polygon are
    refused with a reason. The parent is the Amanah `amanah_code` (created if new); without it only
    existing municipalities are updated (they keep their parent) and new ones are refused. With
    `dry_run` everything is checked and reported, and nothing is kept.
    `*_field` name the properties to read when the file's names are not recognised.
    """
    code_keys = (_norm_key(code_field),) if code_field else CODE_KEYS
    name_ar_keys = (_norm_key(name_ar_field),) if name_ar_field else NAME_AR_KEYS
    name_en_keys = (_norm_key(name_en_field),) if name_en_field else NAME_EN_KEYS
    features = _features(collection)
    report = MunicipalityImportReport(dry_run=dry_run)
    amanah, report.amanah_created = _amanah(code=amanah_code)
    seen: dict[str, int] = {}
    for index, feature in enumerate(features, start=1):
        if not isinstance(feature, dict):
            report.refused.append(FeatureProblem(index, "", _("Not a GeoJSON Feature.")))
            continue
        properties = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
        code = clean_text(_pick(properties, code_keys) or feature.get("id"))[:32]
        if not code:
            report.refused.append(FeatureProblem(index, "", _("No code property (looked for code, id, ...).")))
            continue
        if code in seen:
            report.refused.append(
                FeatureProblem(index, code, _("Code already used by feature %(index)s.") % {"index": seen[code]})
            )
            continue
        name_ar = clean_text(_pick(properties, name_ar_keys))[:200]
        name_en = clean_text(_pick(properties, name_en_keys))[:200]
        if name_en and not name_ar and _ARABIC.search(name_en):
            name_ar, name_en = name_en, ""  # a bare "name" property written in Arabic
        if not name_ar and not name_en:
            report.refused.append(FeatureProblem(index, code, _("No Arabic or English name.")))
            continue
        geometry, dropped = _polygonal_geometry(feature.get("geometry"))
        if geometry is None:
            report.refused.append(FeatureProblem(index, code, _("No Polygon or MultiPolygon geometry.")))
            continue
        try:
            cleaned = boundary_clean(geometry)
        except BoundaryError as error:
            report.refused.append(FeatureProblem(index, code, str(error)))
            continue
        if amanah is not None and code == amanah.code:
            report.refused.append(FeatureProblem(index, code, _("This code belongs to the Amanah itself.")))
            continue
        seen[code] = index
        if cleaned.repaired:
            report.repaired.append(FeatureProblem(index, code, cleaned.problem))
        if dropped:
            report.notes.append(
                FeatureProblem(index, code, _("Ignored %(count)s non-polygon part(s).") % {"count": dropped})
            )
        if not name_ar or not name_en:
            report.notes.append(FeatureProblem(index, code, _("Only one name given; used it for both languages.")))
        centre_lat, centre_lon = _centre(cleaned.geometry, properties)
        existing = Municipality.objects.filter(code=code).first()
        if existing is not None and existing.kind == Municipality.Kind.AMANAH:
            report.refused.append(FeatureProblem(index, code, _("This code belongs to an Amanah.")))
            continue
        if existing is None and amanah is None:
            report.refused.append(FeatureProblem(index, code, _no_amanah_reason()))
            continue
        municipality = existing or Municipality(code=code, kind=Municipality.Kind.BALADIYA)
        municipality.name_ar = name_ar or name_en
        municipality.name_en = name_en or name_ar
        municipality.boundary = cleaned.geometry
        municipality.boundary_repaired = cleaned.repaired
        municipality.boundary_is_demo = False
        municipality.centre_lat, municipality.centre_lon = centre_lat, centre_lon
        if amanah is not None:
            municipality.parent = amanah
        municipality.save()  # bumps updated_at, so every process rebuilds its prepared boundaries
        (report.updated if existing else report.created).append(code)
    if dry_run:
        transaction.set_rollback(True)
    return report
