"""Analytics endpoints: violation rates, the H3 heatmap, overdue findings and the exports.

Supervisors, leadership and admins only (an inspector gets 403); every figure is scoped to the
caller's municipalities. Query parameters are validated by ninja: a bad value is a 422 JSON answer.
"""

import functools
from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from analytics import exports, indicators, indicators_pdf, selectors, services
from analytics.selectors import AnalyticsFilters
from backend.api_basics import ERRORS, IsoDate, MappedList, Page, StrictIn
from backend.db_routers import analytics_reads
from backend.exceptions import PermissionDeniedError, ValidationFailedError
from inspections.domain.names import localized_name, person_name
from inspections.models import Visit
from inspections.selectors.scope import visible_to

router = Router(tags=["analytics"])

GroupBy = Literal[
    "municipality", "amanah", "municipality_class", "category", "item", "month", "hijri_month", "inspector"
]


class FiltersIn(Schema):
    """The filters every analytics endpoint takes. Dates are inclusive days in Asia/Riyadh."""

    date_from: IsoDate | None = Field(None, alias="from", description="first day (inclusive), YYYY-MM-DD")
    date_to: IsoDate | None = Field(None, alias="to", description="last day (inclusive), YYYY-MM-DD")
    municipality: int | None = Field(None, ge=1, le=2**62)
    category: int | None = Field(None, ge=1, le=2**62)
    checklist: int | None = Field(None, ge=1, le=2**62)

    def to_filters(self) -> AnalyticsFilters:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValidationFailedError(_("'from' must not be after 'to'."), loc=["query", "from"], msg="from > to")
        return AnalyticsFilters(
            date_from=self.date_from,
            date_to=self.date_to,
            municipality_id=self.municipality,
            category_id=self.category,
            checklist_id=self.checklist,
        )


class RateOut(Schema):
    key: str
    label: str
    visits: int
    violating_visits: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None


class OverdueFindingOut(Schema):
    id: int
    visit_id: int
    item_code: str
    item: str
    severity: str
    establishment: str
    municipality: str
    due_date: date
    due_date_hijri: str | None = Field(description="Umm al-Qura date; null outside its table (1924-2077)")
    days_overdue: int


class OverdueOut(Schema):
    count: int
    results: list[OverdueFindingOut]


class VisitRowOut(Schema):
    id: int
    finished_at: datetime
    day: date = Field(description="the Asia/Riyadh day the visit finished")
    day_hijri: str | None = Field(description="Umm al-Qura date; null outside its table (1924-2077)")
    establishment: str
    municipality: str
    inspector: str
    outcome: str
    violation_count: int


def on_analytics_reads(view):
    """The endpoint's reads may run on the read replica (backend/db_routers.py)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with analytics_reads():
            return view(*args, **kwargs)

    return wrapper


def _require_analytics(request: HttpRequest) -> None:
    if not selectors.can_view_analytics(user=request.user):
        raise PermissionDeniedError(_("Analytics are for supervisors, leadership and admins."))


@router.get("/violation-rates", response={200: list[RateOut], **ERRORS}, summary="Violation rates with 95% intervals")
@on_analytics_reads
def violation_rates(request: HttpRequest, group_by: GroupBy = "municipality", filters: Query[FiltersIn] = None):
    """Rates over completed visits (outcome compliant or violations), grouped by `group_by`, each with
    the Wilson score 95% interval. `item` rates are failed answers over the visits that answered it."""
    _require_analytics(request)
    rows = selectors.violation_rates(user=request.user, filters=filters.to_filters(), group_by=group_by)
    return rows


@router.get("/heatmap", response={200: dict, **ERRORS}, summary="H3 cells (GeoJSON) with violation rates")
@on_analytics_reads
def heatmap(
    request: HttpRequest,
    resolution: int = Query(7, ge=5, le=9, description="H3 resolution, 5..9 (the stored columns)"),
    layers: str = Query("", max_length=64, pattern=r"^(municipalities)?$", description="'municipalities' adds them"),
    filters: Query[FiltersIn] = None,
):
    """A GeoJSON FeatureCollection: one Polygon per H3 cell ([lon, lat], closed ring) with the figures;
    with `layers=municipalities` a second collection `municipalities` holds their boundaries and rates."""
    _require_analytics(request)
    text = selectors.heatmap_geojson(
        user=request.user,
        filters=filters.to_filters(),
        resolution=resolution,
        with_municipalities=layers == "municipalities",
    )
    # Already encoded (the selector splices cached cell geometries): no response-schema pass over it.
    # application/json (as the OpenAPI schema declares); the body is a GeoJSON FeatureCollection.
    return HttpResponse(text, content_type="application/json")


@router.get("/overdue-findings", response={200: OverdueOut, **ERRORS}, summary="Open findings past their due date")
@on_analytics_reads
def overdue_findings(
    request: HttpRequest,
    limit: int = Query(20, ge=1, le=200),
    offset: int = Query(0, ge=0, le=10_000_000, description="skip this many (oldest due first)"),
    filters: Query[FiltersIn] = None,
):
    """Oldest due first; `count` is all of them, `offset` and `limit` page through."""
    _require_analytics(request)
    total, findings = selectors.overdue_findings(
        user=request.user, filters=filters.to_filters(), limit=limit, offset=offset
    )
    english = selectors.is_english()
    today = timezone.localdate()
    item_texts = selectors.item_labels(codes={finding.item_code for finding in findings})
    results = [
        {
            "id": finding.id,
            "visit_id": finding.visit_id,
            "item_code": finding.item_code,
            "item": item_texts.get(finding.item_code, finding.item_code),
            "severity": finding.severity,
            "establishment": localized_name(finding.establishment, "en" if english else "ar"),
            "municipality": localized_name(finding.municipality, "en" if english else "ar"),
            "due_date": finding.due_date,
            "due_date_hijri": selectors.hijri_label(finding.due_date),
            "days_overdue": (today - finding.due_date).days,
        }
        for finding in findings
    ]
    return {"count": total, "results": results}


@router.get("/visits", response={200: list[VisitRowOut], **ERRORS}, summary="The visits behind the figures")
@on_analytics_reads
@paginate(Page)
def visits_index(request: HttpRequest, filters: Query[FiltersIn] = None):
    """Every visit in scope matching the filters (any outcome, as the export), newest first, paged by
    `limit` and `offset` (`{items, count}`). The dashboard's drill-down lists them."""
    _require_analytics(request)
    visits = selectors.visits_newest_first(user=request.user, filters=filters.to_filters())
    return MappedList(visits, functools.partial(_visit_row, language="en" if selectors.is_english() else "ar"))


def _visit_row(visit: Visit, *, language: str) -> dict:
    day = timezone.localdate(visit.finished_at)
    return {
        "id": visit.id,
        "finished_at": visit.finished_at,
        "day": day,
        "day_hijri": selectors.hijri_label(day),
        "establishment": localized_name(visit.establishment, language),
        "municipality": localized_name(visit.municipality, language),
        "inspector": person_name(visit.inspector),
        "outcome": visit.outcome,
        "violation_count": visit.violation_count,
    }


ExportFormat = Literal["csv", "geojson"]


@router.get("/exports/visits.{fmt}", response={200: None, **ERRORS}, summary="Export visits (CSV or GeoJSON)")
@on_analytics_reads
def export_visits(request: HttpRequest, fmt: ExportFormat, filters: Query[FiltersIn] = None):
    """Streamed: CSV is UTF-8 with a BOM (Excel opens Arabic), GeoJSON a FeatureCollection of points.
    Every visit in scope matching the filters, whatever its outcome."""
    _require_analytics(request)
    queryset = selectors.visits_filtered(user=request.user, filters=filters.to_filters())
    queryset = queryset.using(queryset.db)  # streamed after the view returns: pin the database now
    return _stream(exports.visits_csv(queryset) if fmt == "csv" else exports.visits_geojson(queryset), fmt, "visits")


@router.get("/exports/findings.{fmt}", response={200: None, **ERRORS}, summary="Export findings (CSV or GeoJSON)")
@on_analytics_reads
def export_findings(request: HttpRequest, fmt: ExportFormat, filters: Query[FiltersIn] = None):
    _require_analytics(request)
    queryset = selectors.findings_filtered(user=request.user, filters=filters.to_filters())
    queryset = queryset.using(queryset.db)  # streamed after the view returns: pin the database now
    chunks = exports.findings_csv(queryset) if fmt == "csv" else exports.findings_geojson(queryset)
    return _stream(chunks, fmt, "findings")


@router.get("/exports/visits/{visit_id}/report.pdf", response={200: None, **ERRORS}, summary="PDF visit report")
def visit_report(request: HttpRequest, visit_id: int = Path(..., ge=1, le=2**63 - 1)):
    """One visit as a printable Arabic (right-to-left) PDF with Hijri and Gregorian dates."""
    _require_analytics(request)
    visit = get_object_or_404(visible_to(Visit.objects.all(), user=request.user), pk=visit_id)
    response = HttpResponse(exports.visit_report_pdf(visit), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="visit-{visit.pk}.pdf"'
    return response


def _stream(chunks, fmt: str, name: str) -> StreamingHttpResponse:
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/geo+json"
    response = StreamingHttpResponse(chunks, content_type=content_type)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="jawla-{name}-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


IndicatorGroupBy = Literal["municipality", "amanah", "municipality_class", "total"]
CLASS_PATTERN = r"^[A-E]$"
MONTH_PATTERN = r"^\d{4}-\d{2}$"


class IndicatorsIn(Schema):
    """One month, Gregorian (`month`) or Umm al-Qura (`hijri_month`); the current month when neither."""

    month: str | None = Field(None, pattern=MONTH_PATTERN, description="YYYY-MM (Gregorian)")
    hijri_month: str | None = Field(None, pattern=MONTH_PATTERN, description="YYYY-MM (Umm al-Qura)")
    group_by: IndicatorGroupBy = "municipality"
    municipality: int | None = Field(
        None, ge=1, le=2**62, description="only this municipality, or this Amanah's municipalities (in your scope)"
    )

    def to_period(self) -> indicators.Period:
        if self.month is None and self.hijri_month is None:
            today = timezone.localdate()
            return indicators.period_gregorian(year=today.year, month=today.month)
        if self.month is not None and self.hijri_month is not None:
            raise ValidationFailedError(
                _("Give one of 'month' and 'hijri_month', not both."),
                loc=["query", "month"],
                msg="one of month, hijri_month",
            )
        year, month = (int(part) for part in (self.month or self.hijri_month).split("-"))
        if self.month is not None:
            return indicators.period_gregorian(year=year, month=month)
        return indicators.period_hijri(year=year, month=month)


class IndicatorFigureOut(Schema):
    value: float | None
    numerator: int | None
    denominator: int
    ci_low: float | None
    ci_high: float | None
    target: float | None = Field(description="the target this figure is held against (analytics.targets)")
    amber_margin: float | None = Field(None, description="a miss within this margin of the target is amber")
    target_scope: int | None = Field(
        None,
        description="the municipality or Amanah the target was set on; null: a class target, the national default "
        "(or no target)",
    )
    target_class: str | None = Field(
        None, description="the municipality class (A-E) the target was set for nationally; null otherwise"
    )
    target_scope_label: str | None = Field(
        None,
        description="that scope's name, 'Class C' for a class target, 'National' for the national default; "
        "null without a target",
    )
    light: Literal["green", "amber", "red"] | None


class IndicatorRowOut(Schema):
    key: str
    label: str
    scope: int | None = Field(
        None,
        description="the municipality or Amanah whose targets (else its ancestors') this row takes; null: national",
    )
    scope_label: str = ""
    scope_class: str | None = Field(
        None,
        description="the class whose national target this row falls back to (a municipality's class, a class "
        "row's); null for an Amanah or the nation",
    )
    indicators: dict[str, IndicatorFigureOut]


class IndicatorDefinitionOut(Schema):
    code: str
    name: str
    definition: str
    proportion: bool
    higher_is_better: bool


class IndicatorPeriodOut(Schema):
    key: str
    calendar: str
    first: date
    last: date
    first_hijri: str
    last_hijri: str
    working_days: int


class IndicatorsOut(Schema):
    period: IndicatorPeriodOut
    definitions: list[IndicatorDefinitionOut]
    rows: list[IndicatorRowOut]


class IndicatorTargetIn(StrictIn):
    target: float = Field(..., ge=0, le=1e9)
    amber_margin: float = Field(0.0, ge=0, le=1e9)
    municipality: int | None = Field(
        None, ge=1, le=2**62, description="the municipality or Amanah this target is for; absent or null: national"
    )
    municipality_class: str | None = Field(
        None,
        pattern=CLASS_PATTERN,
        description="a municipality class (A-E): a national target for every municipality of that class; "
        "not with `municipality`",
    )


class IndicatorTargetOut(Schema):
    code: str
    target: float
    amber_margin: float
    municipality: int | None = Field(description="the scope it was set on; null: a class or the national default")
    municipality_class: str | None = Field(description="the class it was set for; null otherwise")


def _indicators(request: HttpRequest, query: IndicatorsIn) -> tuple[indicators.Period, list[dict]]:
    period, rows, _chosen = _indicators_in_scope(request, query)
    return period, rows


def _indicators_in_scope(request: HttpRequest, query: IndicatorsIn, *, language: str | None = None):
    """Validated first (a bad month or municipality answers in the caller's language, nothing half
    done), then the table, in `language` when given (the PDF is Arabic whatever the request)."""
    _require_analytics(request)
    period = query.to_period()
    chosen, ids = (None, None)
    if query.municipality is not None:
        chosen, ids = indicators.scope_choice(user=request.user, municipality_id=query.municipality)
    with translation.override(language or translation.get_language()):
        rows = indicators.indicators_table(
            user=request.user, period=period, group_by=query.group_by, municipality_ids=ids
        )
    return period, rows, chosen


@router.get("/indicators", response={200: IndicatorsOut, **ERRORS}, summary="Institutional performance indicators")
@on_analytics_reads
def indicator_table(request: HttpRequest, query: Query[IndicatorsIn]):
    """Every indicator for one Gregorian or Hijri month, per municipality, Amanah or in total, with its
    definition, numerator and denominator, a Wilson 95% interval for proportions, the admin's target
    and a traffic light (green meets it, amber within its margin, red beyond)."""
    period, rows = _indicators(request, query)
    return {
        "period": {
            "key": period.key,
            "calendar": period.calendar,
            "first": period.first,
            "last": period.last,
            "first_hijri": selectors.hijri_label(period.first),
            "last_hijri": selectors.hijri_label(period.last),
            "working_days": period.working_days,
        },
        "definitions": [
            {
                "code": indicator.code,
                "name": str(indicator.name),
                "definition": str(indicator.definition),
                "proportion": indicator.proportion,
                "higher_is_better": indicator.higher_is_better,
            }
            for indicator in indicators.INDICATORS
        ],
        "rows": rows,
    }


@router.get("/indicators.csv", response={200: None, **ERRORS}, summary="Indicators as CSV")
@on_analytics_reads
def indicator_csv(request: HttpRequest, query: Query[IndicatorsIn]):
    """One line per group and indicator: value, interval, numerator, denominator, target, light, then the
    target's margin and the scope it was set on (`target_scope`, empty: a class or national;
    `target_scope_label`), then `target_class` (the class of a class target, else empty)."""
    period, rows = _indicators(request, query)
    body = exports.indicators_csv(period=period, rows=rows)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="jawla-indicators-{period.calendar}-{period.key}.csv"'
    return response


@router.get("/indicators.pdf", response={200: None, **ERRORS}, summary="Indicators as a monthly Arabic PDF")
@on_analytics_reads
def indicator_pdf(request: HttpRequest, query: Query[IndicatorsIn]):
    """The month's indicators as an Arabic A4 report (right to left, Hijri and Gregorian month, the
    municipality's letterhead): per group, each indicator's value, interval, target and light in words."""
    period, rows, chosen = _indicators_in_scope(request, query, language="ar")
    body = indicators_pdf.indicators_pdf(period=period, rows=rows, chosen=chosen)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="jawla-indicators-{period.calendar}-{period.key}.pdf"'
    return response


@router.put(
    "/indicators/targets/{code}", response={200: IndicatorTargetOut, **ERRORS}, summary="Set an indicator's target"
)
def indicator_target_put(request: HttpRequest, payload: IndicatorTargetIn, code: str = Path(..., max_length=64)):
    """Admins only. For one scope: `municipality` (a municipality or an Amanah), `municipality_class`
    (A-E, national: every municipality of that class), or the national default without either; both
    is a 422. A proportion's target and margin are shares between 0 and 1."""
    row = services.indicator_target_set(
        actor=request.user,
        code=code,
        target=payload.target,
        amber_margin=payload.amber_margin,
        municipality_id=payload.municipality,
        municipality_class=payload.municipality_class,
    )
    return {
        "code": row.code,
        "target": row.target,
        "amber_margin": row.amber_margin,
        "municipality": row.municipality_id,
        "municipality_class": row.municipality_class or None,
    }


@router.delete(
    "/indicators/targets/{code}", response={204: None, **ERRORS}, summary="Remove an indicator's target for a scope"
)
def indicator_target_delete(
    request: HttpRequest,
    code: str = Path(..., max_length=64),
    municipality: int | None = Query(
        None, ge=1, le=2**62, description="the scope whose own target goes; absent: the national default"
    ),
    municipality_class: str | None = Query(
        None, pattern=CLASS_PATTERN, description="the class (A-E) whose national target goes; not with municipality"
    ),
):
    """Admins only. The scope's figures fall back to the next target in line (analytics.targets: an
    ancestor's, the class's, the national default); 404 when the scope has no target of its own for
    this indicator."""
    services.indicator_target_delete(
        actor=request.user, code=code, municipality_id=municipality, municipality_class=municipality_class
    )
    return Status(204, None)
