"""Establishments (منشآت): create, update and the CSV import.

The municipality comes from the location (point-in-polygon on prepared boundaries, cached per
process) unless it is given explicitly, which marks it as a manual override. The H3 cells of the
location are stored at write time for the heatmap and the nearby search.

Who may write: supervisors and admins, within their scope. Inspectors and leadership read only
(an inspector who finds an unregistered shop reports it; registering it is the supervisor's call,
which keeps the register free of duplicates typed in a hurry).

Just over 500 lines: create, update and the CSV import share the location checks and the audit
rows; the import's row parsing is most of the length and has no other caller.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError, PermissionDeniedError
from inspections.domain.geo import h3_cells, municipality_at
from inspections.models import Category, Establishment, Membership, Municipality
from inspections.selectors.scope import Scope, scope_for
from inspections.services.audit import audit_record

Role = Membership.Role
WRITER_ROLES = (Role.SUPERVISOR, Role.ADMIN)


def _field_error(message: str, *, field: str, code: str, status: int = 400) -> ApplicationError:
    return ApplicationError(
        message, code=code, status=status, extra={"errors": [{"loc": ["body", field], "msg": message, "type": code}]}
    )


def _require_writer(scope: Scope) -> None:
    if not scope.has_role(*WRITER_ROLES):
        raise PermissionDeniedError(
            _("Only supervisors and admins can register or change establishments."), code="not_a_supervisor"
        )


def _check_location(lat: float, lon: float) -> None:
    if not (isinstance(lat, int | float) and math.isfinite(lat) and -90 <= lat <= 90):
        raise _field_error(_("Latitude must be a number between -90 and 90."), field="lat", code="bad_latitude")
    if not (isinstance(lon, int | float) and math.isfinite(lon) and -180 <= lon <= 180):
        raise _field_error(_("Longitude must be a number between -180 and 180."), field="lon", code="bad_longitude")


def _category(code: str) -> Category:
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise _field_error(_("Unknown category %(code)s.") % {"code": code}, field="category", code="unknown_category")
    return category


def _municipality_for(*, scope: Scope, lat: float, lon: float, municipality_id: int | None) -> tuple[int, bool]:
    """(municipality id, overridden) for a location, checked against the caller's scope."""
    if municipality_id is not None:
        municipality = Municipality.objects.filter(pk=municipality_id, kind=Municipality.Kind.BALADIYA).first()
        # An unknown id and one outside the caller's scope get the same answer.
        if municipality is None or not scope.covers(municipality.pk):
            raise _field_error(
                _("Municipality %(id)s does not exist or is not one of yours.") % {"id": municipality_id},
                field="municipality_id",
                code="unknown_municipality",
            )
        return municipality.pk, True
    found = municipality_at(lat, lon)
    if found is None:
        raise _field_error(
            _(
                "The location (%(lat).6f, %(lon).6f) is outside every municipality; check the coordinates "
                "(latitude first) or give municipality_id."
            )
            % {"lat": lat, "lon": lon},
            field="lat",
            code="outside_municipalities",
        )
    if not scope.covers(found):
        name = Municipality.objects.filter(pk=found).values_list("name_en", flat=True).first()
        raise _field_error(
            _("The location is in %(name)s, which is outside your municipalities.") % {"name": name},
            field="lat",
            code="municipality_out_of_scope",
        )
    return found, False


def _duplicate_licence(licence_no: str) -> ApplicationError:
    return _field_error(
        _("An establishment with licence number %(licence)s is already registered.") % {"licence": licence_no},
        field="licence_no",
        code="duplicate_licence",
        status=409,
    )


@transaction.atomic
def establishment_create(
    *,
    user,
    name_ar: str,
    category: str,
    licence_no: str,
    lat: float,
    lon: float,
    name_en: str = "",
    address: str = "",
    municipality_id: int | None = None,
) -> Establishment:
    """Register an establishment. The municipality is found from (lat, lon) unless `municipality_id`
    overrides it; either way it must be in the caller's scope. A taken licence number is a 409."""
    scope = scope_for(user)
    _require_writer(scope)
    _check_location(lat, lon)
    licence_no = licence_no.strip()
    if not licence_no:
        raise _field_error(_("The licence number is required."), field="licence_no", code="required")
    found_category = _category(category)
    found_municipality, overridden = _municipality_for(scope=scope, lat=lat, lon=lon, municipality_id=municipality_id)
    if Establishment.objects.filter(licence_no=licence_no).exists():
        raise _duplicate_licence(licence_no)
    establishment = Establishment(
        name_ar=name_ar,
        name_en=name_en,
        category=found_category,
        licence_no=licence_no,
        address=address,
        lat=lat,
        lon=lon,
        municipality_id=found_municipality,
        municipality_overridden=overridden,
        **h3_cells(lat, lon),
    )
    try:
        with transaction.atomic():  # a savepoint: the unique licence may race another request
            establishment.save()
    except IntegrityError as error:
        raise _duplicate_licence(licence_no) from error
    audit_record(
        actor=user,
        action="establishment.created",
        target=establishment,
        municipality_id=found_municipality,
        details={"licence_no": licence_no},
    )
    return establishment


PATCHABLE = ("name_ar", "name_en", "category", "address", "lat", "lon", "municipality_id", "status")


@transaction.atomic
def establishment_update(*, user, establishment: Establishment, changes: dict[str, Any]) -> Establishment:
    """Change the fields in `changes` (only those sent). A new location finds the municipality again unless
    it was set by hand; `municipality_id` sets it by hand; `municipality_id: None` drops the override."""
    scope = scope_for(user)
    _require_writer(scope)
    unknown = set(changes) - set(PATCHABLE)
    if unknown:
        raise ApplicationError(_("These fields cannot be changed: %(f)s") % {"f": ", ".join(sorted(unknown))})
    establishment = Establishment.objects.select_for_update().get(pk=establishment.pk)
    before = {name: getattr(establishment, name) for name in ("name_ar", "name_en", "address", "lat", "lon", "status")}
    before.update(category=establishment.category.code, municipality_id=establishment.municipality_id)
    for name in ("name_ar", "name_en", "address", "status"):
        if name in changes:
            if changes[name] is None:
                if name in ("name_ar", "status"):
                    raise _field_error(_("%(field)s cannot be empty.") % {"field": name}, field=name, code="required")
                changes[name] = ""
            setattr(establishment, name, changes[name])
    if "category" in changes:
        if changes["category"] is None:
            raise _field_error(_("category cannot be empty."), field="category", code="required")
        establishment.category = _category(changes["category"])
    moved = False
    for name in ("lat", "lon"):
        if name in changes:
            if changes[name] is None:
                raise _field_error(_("%(field)s cannot be empty.") % {"field": name}, field=name, code="required")
            moved = moved or changes[name] != getattr(establishment, name)
            setattr(establishment, name, changes[name])
    _check_location(establishment.lat, establishment.lon)
    if "municipality_id" in changes:
        establishment.municipality_id, establishment.municipality_overridden = _municipality_for(
            scope=scope, lat=establishment.lat, lon=establishment.lon, municipality_id=changes["municipality_id"]
        )
    elif moved and not establishment.municipality_overridden:
        establishment.municipality_id, _overridden = _municipality_for(
            scope=scope, lat=establishment.lat, lon=establishment.lon, municipality_id=None
        )
    if moved:
        for column, cell in h3_cells(establishment.lat, establishment.lon).items():
            setattr(establishment, column, cell)
    establishment.save()
    after = {name: getattr(establishment, name) for name in ("name_ar", "name_en", "address", "lat", "lon", "status")}
    after.update(category=establishment.category.code, municipality_id=establishment.municipality_id)
    diff = {name: {"from": before[name], "to": after[name]} for name in after if before[name] != after[name]}
    if diff:
        audit_record(
            actor=user,
            action="establishment.updated",
            target=establishment,
            municipality_id=establishment.municipality_id,
            details=diff,
        )
    return establishment


# --- CSV import -----------------------------------------------------------------------------------

# Columns of the import file; the first name is the canonical one, the others are accepted aliases.
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "licence_no": ("licence_no", "license_no", "licence", "license", "cr_number", "cr", "رقم_الرخصة", "رقم الرخصة"),
    "name_ar": ("name_ar", "arabic_name", "الاسم", "اسم_المنشأة", "اسم المنشأة"),
    "name_en": ("name_en", "english_name", "name"),
    "category": ("category", "category_code", "النشاط", "التصنيف"),
    "lat": ("lat", "latitude", "خط_العرض"),
    "lon": ("lon", "lng", "long", "longitude", "خط_الطول"),
    "address": ("address", "العنوان"),
    "municipality": ("municipality", "municipality_code", "البلدية"),
    "status": ("status", "الحالة"),
}
CSV_REQUIRED = ("licence_no", "name_ar", "category", "lat", "lon")
STATUSES = {choice.value for choice in Establishment.Status}


@dataclass(frozen=True)
class RowError:
    row: int  # line number in the file (the header is line 1)
    field: str
    reason: str


@dataclass
class EstablishmentImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = True  # False when strict mode refused the whole file

    @property
    def bad_rows(self) -> int:
        return len({error.row for error in self.errors})


def csv_header_map(header: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map the file's column names to ours (case, spaces and BOM tolerated); also the missing required ones."""

    def norm(name: str) -> str:
        return name.replace("\ufeff", "").strip().lower().replace("-", "_").replace(" ", "_")

    by_norm = {norm(column): column for column in header if column}
    mapping: dict[str, str] = {}
    for ours, aliases in CSV_COLUMNS.items():
        for alias in aliases:
            if norm(alias) in by_norm:
                mapping[ours] = by_norm[norm(alias)]
                break
    missing = [column for column in CSV_REQUIRED if column not in mapping]
    return mapping, missing


def _parse_coordinate(text: str, *, low: float, high: float) -> float | None:
    try:
        value = float(text.replace("٫", ".").replace(",", ".").strip())  # Arabic decimal separator too
    except ValueError:
        return None
    return value if math.isfinite(value) and low <= value <= high else None


@dataclass
class _ValidRow:
    row: int
    values: dict[str, Any]


def _validate_row(
    row_no: int,
    row: dict[str, str],
    *,
    categories: dict[str, Category],
    municipalities: dict[str, int],
    has_status: bool,
) -> tuple[_ValidRow | None, list[RowError]]:
    errors: list[RowError] = []

    def text(name: str, limit: int) -> str:
        value = (row.get(name) or "").replace("\x00", "").strip()
        if len(value) > limit:
            errors.append(RowError(row_no, name, _("Longer than %(n)s characters.") % {"n": limit}))
        return value

    licence_no = text("licence_no", 64)
    name_ar = text("name_ar", 200)
    name_en = text("name_en", 200)
    address = text("address", 300)
    for name, value in (("licence_no", licence_no), ("name_ar", name_ar)):
        if not value:
            errors.append(RowError(row_no, name, _("Required.")))
    category_text = text("category", 120)
    category = categories.get(category_text.lower())
    if category is None:
        errors.append(
            RowError(
                row_no,
                "category",
                _("Unknown category %(c)s.") % {"c": category_text} if category_text else _("Required."),
            )
        )
    lat = _parse_coordinate(row.get("lat") or "", low=-90, high=90)
    lon = _parse_coordinate(row.get("lon") or "", low=-180, high=180)
    if not (row.get("lat") or "").strip():
        errors.append(RowError(row_no, "lat", _("Missing: the row has no latitude.")))
    elif lat is None:
        errors.append(RowError(row_no, "lat", _("Not a latitude between -90 and 90: %(v)r.") % {"v": row.get("lat")}))
    if not (row.get("lon") or "").strip():
        errors.append(RowError(row_no, "lon", _("Missing: the row has no longitude.")))
    elif lon is None:
        errors.append(
            RowError(row_no, "lon", _("Not a longitude between -180 and 180: %(v)r.") % {"v": row.get("lon")})
        )
    status = text("status", 16).lower() if has_status else ""
    if status and status not in STATUSES:
        errors.append(RowError(row_no, "status", _("Must be one of %(s)s.") % {"s": ", ".join(sorted(STATUSES))}))
    municipality_text = text("municipality", 32)
    municipality_id, overridden = None, False
    if municipality_text:
        municipality_id = municipalities.get(municipality_text.upper())
        overridden = True
        if municipality_id is None:
            errors.append(
                RowError(row_no, "municipality", _("Unknown municipality code %(c)s.") % {"c": municipality_text})
            )
    if errors:
        return None, errors
    values = {
        "licence_no": licence_no,
        "name_ar": name_ar,
        "name_en": name_en,
        "address": address,
        "category_id": category.pk,
        "lat": lat,
        "lon": lon,
        "municipality_id": municipality_id,
        "municipality_overridden": overridden,
        **h3_cells(lat, lon),
    }
    if status:
        values["status"] = status
    return _ValidRow(row_no, values), []


def establishments_import(
    *, rows: Iterable[tuple[int, dict[str, str]]], strict: bool = False, batch_size: int = 1000
) -> EstablishmentImportReport:
    """Import establishments from CSV rows `(line number, {our column: text})`, deduplicated by licence number.

    Every row is validated first; then the valid rows are written set-based in one transaction
    (new licences inserted, known ones updated in place, so a re-import never duplicates). A bad
    row is reported (row, field, reason) and skipped whole: no row is ever half-written. With
    `strict`, one bad row means nothing at all is written.
    """
    report = EstablishmentImportReport()
    categories: dict[str, Category] = {}
    for category in Category.objects.all():
        for key in (category.code, category.name_en, category.name_ar):
            categories.setdefault(key.strip().lower(), category)
    municipalities = {
        code.upper(): pk
        for pk, code in Municipality.objects.filter(kind=Municipality.Kind.BALADIYA).values_list("id", "code")
    }
    parsed_rows: list[_ValidRow] = []
    has_status: bool | None = None
    for row_no, row in rows:
        report.rows += 1
        if has_status is None:
            has_status = "status" in row
        parsed, errors = _validate_row(
            row_no, row, categories=categories, municipalities=municipalities, has_status=has_status
        )
        report.errors.extend(errors)
        if parsed is not None:
            parsed_rows.append(parsed)
    report.errors.extend(_locate(parsed_rows))
    valid: dict[str, _ValidRow] = {}
    for parsed in parsed_rows:
        if parsed.values["municipality_id"] is None:
            continue  # outside every municipality: reported by _locate
        licence = parsed.values["licence_no"]
        if licence in valid:
            reason = _("Licence %(l)s already appears at row %(r)s.") % {"l": licence, "r": valid[licence].row}
            report.errors.append(RowError(parsed.row, "licence_no", reason))
        else:
            valid[licence] = parsed
    report.errors.sort(key=lambda error: error.row)
    if strict and report.errors:
        report.written = False
        return report
    _write_rows(list(valid.values()), report=report, batch_size=batch_size)
    return report


def _locate(parsed_rows: list[_ValidRow]) -> list[RowError]:
    """Point-in-polygon for the rows without a municipality code, set-based: each boundary tests every
    point at once (shapely's vectorised intersects_xy), smallest municipality first, as
    inspections.domain.geo.municipality_at does one point at a time."""
    # numpy and shapely (~17 MiB of RSS) are imported by the import that uses them, not by every web
    # process that loads this module (see inspections.domain.geo).
    import numpy
    import shapely
    from shapely.geometry import shape

    pending = [parsed for parsed in parsed_rows if parsed.values["municipality_id"] is None]
    if not pending:
        return []
    lons = numpy.array([parsed.values["lon"] for parsed in pending])
    lats = numpy.array([parsed.values["lat"] for parsed in pending])
    found = numpy.zeros(len(pending), dtype=numpy.int64)
    boundaries = Municipality.objects.filter(kind=Municipality.Kind.BALADIYA).exclude(boundary=None)
    geometries = sorted(((shape(m.boundary), m.pk) for m in boundaries.only("id", "boundary")), key=lambda g: g[0].area)
    for geometry, municipality_id in geometries:
        open_rows = found == 0
        if not open_rows.any():
            break
        shapely.prepare(geometry)
        hits = open_rows & shapely.intersects_xy(geometry, lons, lats)
        found[hits] = municipality_id
    errors = []
    for parsed, municipality_id in zip(pending, found.tolist(), strict=True):
        if municipality_id:
            parsed.values["municipality_id"] = municipality_id
        else:
            reason = _("The location is outside every municipality; add a municipality code.")
            errors.append(RowError(parsed.row, "lat", reason))
    return errors


COMPARED = (
    "name_ar",
    "name_en",
    "address",
    "category_id",
    "lat",
    "lon",
    "municipality_id",
    "municipality_overridden",
    "status",
)


@transaction.atomic
def _write_rows(valid: list[_ValidRow], *, report: EstablishmentImportReport, batch_size: int) -> None:
    existing: dict[str, Establishment] = {}
    licences = [parsed.values["licence_no"] for parsed in valid]
    for start in range(0, len(licences), batch_size):  # chunks keep SQLite under its variable limit
        for establishment in Establishment.objects.filter(licence_no__in=licences[start : start + batch_size]):
            existing[establishment.licence_no] = establishment
    now = timezone.now()
    to_create: list[Establishment] = []
    to_update: list[Establishment] = []
    for parsed in valid:
        current = existing.get(parsed.values["licence_no"])
        if current is None:
            to_create.append(Establishment(**parsed.values))
            continue
        if all(getattr(current, name) == parsed.values.get(name, getattr(current, name)) for name in COMPARED):
            report.unchanged += 1
            continue
        for name, value in parsed.values.items():
            setattr(current, name, value)
        current.updated_at = now  # a plain UPDATE skips auto_now; the delta sync relies on updated_at
        to_update.append(current)
    Establishment.objects.bulk_create(to_create, batch_size=batch_size)
    _update_rows(to_update)
    report.created = len(to_create)
    report.updated = len(to_update)


UPDATED_FIELDS = (*COMPARED, "h3_r5", "h3_r6", "h3_r7", "h3_r8", "h3_r9", "updated_at")


def _update_rows(establishments: list[Establishment]) -> None:
    """One prepared UPDATE ... WHERE id = %s run with executemany: Django's bulk_update builds a CASE
    branch per row and field in Python, which took over a second per hundred rows here."""
    if not establishments:
        return
    fields = [Establishment._meta.get_field(name) for name in UPDATED_FIELDS]
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        quote(Establishment._meta.db_table),
        ", ".join(f"{quote(field.column)} = %s" for field in fields),
        quote(Establishment._meta.pk.column),
    )
    params = [
        [field.get_db_prep_save(getattr(establishment, field.attname), connection) for field in fields]
        + [establishment.pk]
        for establishment in establishments
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
