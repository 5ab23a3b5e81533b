"""Analytics reads: violation rates with Wilson intervals, the H3 heatmap, overdue findings and the
filtered querysets behind the exports. Rates and the heatmap sum the daily roll-ups
(analytics/rollups.py, kept exact in the writers' transactions); the heatmap with a category or
checklist filter, and the exports, read the raw rows. Every figure is aggregated in the database
(GROUP BY) and every queryset is scoped through `inspections.selectors.scope.visible_to`.

Definitions (docs/analytics.md):
- a *completed* visit is one whose outcome is `compliant` or `violations`: the inspector got in and
  answered the checklist. `closed` and `refused_entry` visits are field events, not inspections, and
  are left out of every rate (they are still exported).
- rate = violating completed visits / completed visits, with a Wilson score 95% interval.
- item rate = failed answers / answers to that item on completed visits (N/A answers excluded).

Over 500 lines because each figure has its roll-up read and, where a filter needs it, its raw
fallback side by side, so the two can be read (and property-tested) against each other.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import Case, Count, F, Q, QuerySet, Sum, When
from django.utils import timezone, translation

from analytics.models import CellPeriod, InspectorDay, ItemDay, VisitDay
from analytics.periods import ROWS_READ, add_months, quarter_of, signed_cover, week_of
from analytics.rollups import QUARTER_RESOLUTIONS, WEEK_RESOLUTIONS
from analytics.targets import class_label
from inspections.domain import calendar
from inspections.domain.names import label, person_name
from inspections.models import Category, ChecklistItem, Finding, Municipality, Visit
from inspections.selectors.scope import Role, scope_for, visible_to

COMPLETED_OUTCOMES = (Visit.Outcome.COMPLIANT, Visit.Outcome.VIOLATIONS)
GROUP_BYS = ("municipality", "amanah", "category", "item", "month", "hijri_month", "inspector")
ANALYTICS_ROLES = (Role.SUPERVISOR, Role.LEADERSHIP, Role.ADMIN)
Z_95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution
LOCAL_TZ = calendar.RIYADH


@dataclass(frozen=True)
class AnalyticsFilters:
    """The filters shared by rates, heatmap and exports. Dates are inclusive days in Asia/Riyadh."""

    date_from: date | None = None
    date_to: date | None = None
    municipality_id: int | None = None
    category_id: int | None = None
    checklist_id: int | None = None


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    visits: int
    violating_visits: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float | None, float | None]:
    """The Wilson score interval of a binomial proportion; (None, None) when there are no trials."""
    if trials <= 0:
        return None, None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_row(*, key: str, label: str, visits: int, violating: int) -> Rate:
    low, high = wilson_interval(violating, visits)
    return Rate(
        key=key,
        label=label,
        visits=visits,
        violating_visits=violating,
        rate=(violating / visits) if visits else None,
        ci_low=low,
        ci_high=high,
    )


def can_view_analytics(*, user) -> bool:
    return scope_for(user).has_role(*ANALYTICS_ROLES)


def is_english() -> bool:
    return (translation.get_language() or settings.LANGUAGE_CODE).startswith("en")


def local_day_bounds(*, date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """[start of date_from, start of the day after date_to) in Asia/Riyadh, as aware datetimes."""
    return calendar.local_day_bounds(date_from=date_from, date_to=date_to, tz=LOCAL_TZ)


def _filter_visits(queryset: QuerySet, filters: AnalyticsFilters, prefix: str = "") -> QuerySet:
    start, end = local_day_bounds(date_from=filters.date_from, date_to=filters.date_to)
    conditions = {}
    if start:
        conditions[f"{prefix}finished_at__gte"] = start
    if end:
        conditions[f"{prefix}finished_at__lt"] = end
    if filters.municipality_id is not None:
        conditions[f"{prefix}municipality_id"] = filters.municipality_id
    if filters.category_id is not None:
        conditions[f"{prefix}category_id"] = filters.category_id
    if filters.checklist_id is not None:
        conditions[f"{prefix}checklist_version__checklist_id"] = filters.checklist_id
    return queryset.filter(**conditions)


def visits_filtered(*, user, filters: AnalyticsFilters) -> QuerySet:
    """Every visit in the caller's scope that matches the filters (any outcome): the export's rows."""
    return _filter_visits(visible_to(Visit.objects.all(), user=user), filters)


def visits_newest_first(*, user, filters: AnalyticsFilters) -> QuerySet:
    """The visits behind the figures (any outcome), newest first, with their establishment, municipality
    and inspector joined (a page of them is one query)."""
    return (
        visits_filtered(user=user, filters=filters)
        .select_related("establishment", "municipality", "inspector")
        .defer("municipality__boundary")
        .order_by("-finished_at", "-id")
    )


def completed_visits(*, user, filters: AnalyticsFilters) -> QuerySet:
    """Completed visits (compliant or violations) in scope matching the filters, unordered."""
    return visits_filtered(user=user, filters=filters).filter(outcome__in=COMPLETED_OUTCOMES).order_by()


def _label(name_ar: str, name_en: str) -> str:
    return label(name_ar, name_en, "en" if is_english() else "ar")


NAMES_CACHE_SECONDS = 300


def _names(model) -> dict[int, str]:
    """Every municipality's (or category's) name in the caller's language: small tables, cached for
    a few minutes so that a rates request costs one aggregate query, not two."""
    language = "en" if is_english() else "ar"
    key = f"analytics:names:{model._meta.label_lower}:{language}"
    names = cache.get(key)
    if names is None:
        names = {row[0]: _label(row[1], row[2]) for row in model.objects.values_list("id", "name_ar", "name_en")}
        cache.set(key, names, NAMES_CACHE_SECONDS)
    return names


def _rates_by_id(rows: list[dict], field: str, names: dict[int, str]) -> list[Rate]:
    return [
        rate_row(key=str(r[field]), label=names.get(r[field], ""), visits=r["visits"], violating=r["violating"])
        for r in rows
    ]


SCOPE_IDS_AS_INDEX_CONDITION = 3


def _in_scope(rows: QuerySet, *, user) -> QuerySet:
    """Roll-up rows in the caller's scope (as visible_to). A scope of a few municipalities is an index
    condition; a larger one (an Amanah, the kingdom) is a plain filter on the rows the date range
    selects: PostgreSQL before 17 would descend the index once per municipality id, reading the same
    date range once for each (measured: 16 ids made the r9 heatmap's index scans 6x slower)."""
    scope = scope_for(user)
    if scope.everything:
        return rows
    if not scope.municipality_ids:
        return rows.none()
    if len(scope.municipality_ids) <= SCOPE_IDS_AS_INDEX_CONDITION:
        return rows.filter(municipality_id__in=scope.municipality_ids)
    return rows.alias(scope_municipality=F("municipality_id") + 0).filter(scope_municipality__in=scope.municipality_ids)


def rollup_rows(model, *, user, filters: AnalyticsFilters) -> QuerySet:
    """Roll-up rows (analytics.models) in the caller's scope matching the filters: the day column holds
    the Asia/Riyadh day, so inclusive local days are plain date comparisons."""
    rows = _in_scope(model.objects.all(), user=user)
    conditions = {}
    if filters.date_from:
        conditions["day__gte"] = filters.date_from
    if filters.date_to:
        conditions["day__lte"] = filters.date_to
    if filters.municipality_id is not None:
        conditions["municipality_id"] = filters.municipality_id
    if filters.category_id is not None:
        conditions["category_id"] = filters.category_id
    if filters.checklist_id is not None:
        conditions["checklist_id"] = filters.checklist_id
    return rows.filter(**conditions).order_by()


def _rollup_counts(rows: QuerySet, field: str, *, visits: str = "visits", violating: str = "violating") -> list[dict]:
    """Sums per `field` (a handful of result rows, sorted in Python as in `_counts`)."""
    grouped = rows.values(field).annotate(visits=Sum(visits), violating=Sum(violating)).order_by()
    return sorted((row for row in grouped if row["visits"]), key=lambda row: row[field])


def violation_rates(*, user, filters: AnalyticsFilters, group_by: str) -> list[Rate]:
    """Rows {key, label, visits, violating_visits, rate, ci_low, ci_high}, grouped as asked. Read from
    the daily roll-ups (analytics/rollups.py), which every filter and grouping can be answered from."""
    if group_by == "item":
        return _item_rates(user=user, filters=filters)
    if group_by == "inspector":
        rows = _rollup_counts(rollup_rows(InspectorDay, user=user, filters=filters), "inspector_id")
        users = get_user_model().objects.filter(id__in=[r["inspector_id"] for r in rows])
        return _rates_by_id(rows, "inspector_id", {u.id: person_name(u) for u in users})
    days = rollup_rows(VisitDay, user=user, filters=filters)
    if group_by == "municipality":
        return _rates_by_id(_rollup_counts(days, "municipality_id"), "municipality_id", _names(Municipality))
    if group_by == "amanah":
        return _amanah_rates(_rollup_counts(days, "municipality_id"))
    if group_by == "municipality_class":
        return _class_rates(_rollup_counts(days, "municipality_id"))
    if group_by == "category":
        return _rates_by_id(_rollup_counts(days, "category_id"), "category_id", _names(Category))
    if group_by == "month":
        return [_month_row(r) for r in _month_counts(_rollup_counts(days, "day"))]
    if group_by == "hijri_month":
        return _hijri_month_rates(_rollup_counts(days, "day"))
    raise ValueError(group_by)


def _folded(rows: list[dict], group_of) -> dict:
    """{group: [visits, violating]}: per-municipality counts added up by `group_of(municipality_id)`."""
    totals: dict = {}
    for row in rows:
        total = totals.setdefault(group_of(row["municipality_id"]), [0, 0])
        total[0] += row["visits"]
        total[1] += row["violating"]
    return totals


def _amanah_rates(rows: list[dict]) -> list[Rate]:
    """The per-municipality counts folded into their Amanahs (an Amanah's own visits count for it)."""
    parents = dict(Municipality.objects.values_list("id", "parent_id"))
    totals = _folded(rows, lambda municipality_id: parents.get(municipality_id) or municipality_id)
    names = _names(Municipality)
    missing = set(totals) - names.keys()  # an Amanah newer than the cached names
    if missing:
        names = {**names, **{pk: _label(ar, en) for pk, ar, en in Municipality.objects.filter(
            pk__in=missing).values_list("id", "name_ar", "name_en")}}  # fmt: skip
    return [
        rate_row(key=str(amanah_id), label=names.get(amanah_id, ""), visits=visits, violating=violating)
        for amanah_id, (visits, violating) in sorted(totals.items())
    ]


def _class_rates(rows: list[dict]) -> list[Rate]:
    """The per-municipality counts folded into the municipalities' classes (A-E, the class the penalty
    table scales fines by): class A municipalities against class E ones, say, across Amanahs."""
    classes = dict(Municipality.objects.values_list("id", "municipality_class"))
    totals = _folded(rows, lambda municipality_id: classes.get(municipality_id, ""))
    return [
        rate_row(key=code, label=class_label(code), visits=visits, violating=violating)
        for code, (visits, violating) in sorted(totals.items())
    ]


GREGORIAN_MONTHS_AR = (
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
)
GREGORIAN_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _month_counts(per_day: list[dict]) -> list[dict]:
    """Per-day sums folded into Riyadh months (at most 366 day rows a year)."""
    months: dict[date, list[int]] = {}
    for row in per_day:
        totals = months.setdefault(row["day"].replace(day=1), [0, 0])
        totals[0] += row["visits"]
        totals[1] += row["violating"]
    return [{"month": month, "visits": v, "violating": k} for month, (v, k) in sorted(months.items())]


def _month_row(row: dict) -> Rate:
    """A Gregorian month, labelled with the Hijri month its first day falls in."""
    month = row["month"]
    month = month.date() if isinstance(month, datetime) else month
    language = "en" if is_english() else "ar"
    names = GREGORIAN_MONTHS_EN if language == "en" else GREGORIAN_MONTHS_AR
    label = f"{names[month.month - 1]} {month.year}"
    hijri = calendar.hijri_of(month)
    if hijri is not None:  # outside the Umm al-Qura table: the Gregorian month alone
        label += f" ({hijri.month_name(language)} {hijri.year}{calendar.HIJRI_SUFFIX[language]})"
    return rate_row(key=f"{month:%Y-%m}", label=label, visits=row["visits"], violating=row["violating"])


def _hijri_month_rates(per_day: list[dict]) -> list[Rate]:
    """Umm al-Qura months: the database sums per local day (the daily roll-up), Python folds at most a
    few hundred day rows into Hijri months (the calendar is a table, not a formula SQL can compute).
    Days outside the table are grouped by Gregorian month, labelled with the Gregorian month alone
    (keys YYYY-MM stay apart: Hijri years are 1343-1500, Gregorian ones 1900-2199)."""
    months: dict[tuple[bool, int, int], list[int]] = {}
    for row in per_day:
        day = row["day"]
        hijri = calendar.hijri_of(day)
        key = (True, hijri.year, hijri.month) if hijri else (False, day.year, day.month)
        totals = months.setdefault(key, [0, 0])
        totals[0] += row["visits"]
        totals[1] += row["violating"]
    language = "en" if is_english() else "ar"
    gregorian_names = GREGORIAN_MONTHS_EN if language == "en" else GREGORIAN_MONTHS_AR
    rows = []
    for (is_hijri, year, month), (total, violating) in sorted(months.items(), key=lambda item: item[0][1:]):
        if is_hijri:
            name = calendar.hijri_month_name(year, month, language=language)
            label = f"{name} {year}{calendar.HIJRI_SUFFIX[language]}"
        else:
            label = f"{gregorian_names[month - 1]} {year}"
        rows.append(rate_row(key=f"{year:04d}-{month:02d}", label=label, visits=total, violating=violating))
    return rows


def _item_rates(*, user, filters: AnalyticsFilters) -> list[Rate]:
    """Per checklist item (stable code): failed answers over the completed visits that answered it."""
    rows = _rollup_counts(
        rollup_rows(ItemDay, user=user, filters=filters), "item_code", visits="answers", violating="failed"
    )
    texts = item_labels(codes={r["item_code"] for r in rows})
    return [
        rate_row(
            key=r["item_code"],
            label=texts.get(r["item_code"], r["item_code"]),
            visits=r["visits"],
            violating=r["violating"],
        )
        for r in rows
    ]


def item_labels(*, codes: set[str]) -> dict[str, str]:
    """Each item code's text in the caller's language, from its newest checklist version."""
    texts: dict[str, str] = {}
    items = ChecklistItem.objects.filter(code__in=codes).order_by("code", "-version_id")
    for item in items.values("code", "text_ar", "text_en"):
        texts.setdefault(item["code"], _label(item["text_ar"], item["text_en"]))
    return texts


# How long the rows a period of each grain holds (_cell_grain_rows) are kept: the data's shape (how
# often the same cells come back) changes over months, not minutes.
CELL_GRAIN_ROWS_SECONDS = 6 * 3600


def _grain_counts(alias: str, resolution: int, *, week: date, month: date) -> dict[str, int]:
    """CellPeriod rows at `resolution`: the day rows of `week`'s seven days, its week rows, `month`'s
    month rows and the quarter rows of the quarter holding the month two before it."""
    grain = CellPeriod.Grain
    return dict(
        CellPeriod.objects.using(alias)
        .filter(resolution=resolution)
        .filter(
            Q(grain=grain.DAY, period__gte=week, period__lte=week + timedelta(days=6))
            | Q(grain=grain.WEEK, period=week)
            | Q(grain=grain.MONTH, period=month)
            | Q(grain=grain.QUARTER, period=quarter_of(add_months(month, -2)))
        )
        .values_list("grain")
        .annotate(rows=Count("*"))
        .order_by()
    )


def _cell_grain_rows(alias: str, resolution: int, reference: date) -> dict[str, float]:
    """The rows a period of each grain holds at `resolution`, in day rows (a day 1.0), counted over
    the last whole month before `reference`'s month: its rows, the average day of the week around its
    15th, that week's rows, and the quarter holding the month two before it (a whole quarter ending
    at the latest with the month). One indexed count of about four months' rows of one resolution,
    cached per month; ROWS_READ where that week has no rows."""
    month = add_months(reference, -1)
    key = f"analytics:cell-grain-rows:{alias}:{resolution}:{month.isoformat()}"
    rows = cache.get(key)
    if rows is not None:
        return rows
    week = week_of(month.replace(day=15))
    grain = CellPeriod.Grain
    with _cell_read_plan(alias):  # the planner's misjudgements of the cell rows (below)
        counts = _grain_counts(alias, resolution, week=week, month=month)
    day = counts.get(grain.DAY, 0) / 7
    if not day:
        rows = dict(ROWS_READ)
    else:  # a grain not kept at this resolution is never read: its figure does not matter
        rows = {g: counts.get(g, 0) / day if g in counts else ROWS_READ[g] for g in ROWS_READ}
        rows[grain.DAY] = 1.0
    cache.set(key, rows, CELL_GRAIN_ROWS_SECONDS)
    return rows


def _cell_periods(date_from: date, date_to: date, *, resolution: int, alias: str) -> tuple[Q, Q | None]:
    """The CellPeriod rows that add up to the inclusive days [date_from, date_to], as the rows to add
    and the rows to subtract (analytics.periods.signed_cover, with the grains this resolution keeps
    and the rows their periods hold here): the coarsest pieces that fit, or a month cut by an edge
    whole less its days outside the range, whichever reads fewer rows (None: nothing to subtract)."""
    grain = CellPeriod.Grain
    grains = [
        *([grain.QUARTER] if resolution in QUARTER_RESOLUTIONS else []),
        grain.MONTH,
        *([grain.WEEK] if resolution in WEEK_RESOLUTIONS else []),
    ]
    added, subtracted = Q(pk__in=[]), None
    rows = _cell_grain_rows(alias, resolution, min(date_to, timezone.localdate()))
    for piece, sign in signed_cover(date_from, date_to, grains=grains, rows=rows):
        periods = Q(grain=piece.grain, period__gte=piece.first, period__lte=piece.last)
        if sign > 0:
            added |= periods
        else:
            subtracted = periods if subtracted is None else subtracted | periods
    return added, subtracted


def _cell_counts(*, user, filters: AnalyticsFilters, resolution: int) -> list[tuple[int, int, int]]:
    """(cell, visits, violating) per H3 cell at `resolution`, unordered. From the cell roll-up
    (analytics.models.CellPeriod); a category or checklist filter is not kept there (it would multiply
    the rows by the categories), so those read the raw visits: GROUP BY on the stored h3_r<resolution>."""
    if filters.category_id is not None or filters.checklist_id is not None:
        return list(
            completed_visits(user=user, filters=filters)
            .values_list(f"h3_r{int(resolution)}")
            .annotate(visits=Count("*"), violating=Count("has_violation", filter=Q(has_violation=True)))
            .order_by()
        )
    cells = CellPeriod.objects.filter(resolution=int(resolution))
    date_from, date_to = filters.date_from, filters.date_to
    if date_from is None or date_to is None:
        # An open end: the first or last day that has rows (an index probe on the primary key).
        days = cells.filter(grain=CellPeriod.Grain.DAY).order_by("period").values_list("period", flat=True)
        date_from = date_from or days.first()
        date_to = date_to or days.last()
        if date_from is None or date_to is None:
            return []
    rows = _in_scope(cells, user=user)
    if filters.municipality_id is not None:
        rows = rows.filter(municipality_id=filters.municipality_id)
    added, subtracted = _cell_periods(date_from, date_to, resolution=int(resolution), alias=rows.db)
    if subtracted is None:
        rows = rows.filter(added)
        visits, violating = Sum("visits"), Sum("violating")
    else:  # a month read whole, less its days outside the range: a cell seen only there sums to 0
        rows = rows.filter(added | subtracted)
        visits, violating = (
            Sum(Case(When(subtracted, then=-F(name)), default=F(name))) for name in ("visits", "violating")
        )
    grouped = rows.values_list("cell").annotate(visits=visits, violating=violating).order_by()
    # The ORM's SQL, read through a plain cursor: the database returns integers already, and the
    # ORM's per-value converters cost about 20 ms over 18,000 r9 cells (10M national visits).
    try:
        sql, params = grouped.query.sql_with_params()
    except EmptyResultSet:  # nothing can match (no period, or a scope without municipalities)
        return []
    with _cell_read_plan(grouped.db), connections[grouped.db].cursor() as cursor:
        cursor.execute(sql, params)
        return [row for row in cursor.fetchall() if row[1]]


# What the cell read needs from PostgreSQL's planner, set for its transaction only. The planner prices
# a bitmap read of cell rows as if each row sat on its own page (they sit together: the rebuild writes
# them in key order), so at 10M visits (issue 16) a national read (a) costs over jit_above_cost, and
# JIT spent 50-60 ms compiling a query that runs in about 40, and (b) at r7, for some ranges, looked
# dearer than a plain index scan of every r7 row (620,000 rows read for 125,000: 330 ms against 60).
# (c) No parallel workers: each worker's partial sums hold nearly every cell (a cell's rows are spread
# over the whole range), so the leader sums them all again: r9 over the last year, 135,000 rows into
# 18,153 cells, 68 ms with two workers against 45 ms with none (10M national visits, 2 cores).
CELL_READ_SETTINGS = {"jit": "off", "enable_indexscan": "off", "max_parallel_workers_per_gather": "0"}


@contextmanager
def _cell_read_plan(alias: str) -> Iterator[None]:
    """CELL_READ_SETTINGS for the statements inside (PostgreSQL), then the settings as they were."""
    with transaction.atomic(using=alias):
        if connections[alias].vendor != "postgresql":
            yield
            return
        names = list(CELL_READ_SETTINGS)
        with connections[alias].cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join("current_setting(%s), set_config(%s, %s, true)" for _ in names),
                [value for name in names for value in (name, name, CELL_READ_SETTINGS[name])],
            )
            previous = cursor.fetchone()[::2]
            yield
            cursor.execute(
                "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in names),
                [value for name, old in zip(names, previous, strict=True) for value in (name, old)],
            )


def heatmap_cells(*, user, filters: AnalyticsFilters, resolution: int) -> list[dict]:
    """One row per H3 cell at `resolution` (5..9, the stored resolutions), ordered by cell."""
    import h3  # here, not at the top: a web process that serves no map never loads it

    rows = sorted(_cell_counts(user=user, filters=filters, resolution=resolution))
    return [{"cell": h3.int_to_str(cell), **_figures(visits, violating)} for cell, visits, violating in rows]


def _figures(visits: int, violating: int) -> dict:
    row = rate_row(key="", label="", visits=visits, violating=violating)
    return {
        "visits": row.visits,
        "violating_visits": row.violating_visits,
        "rate": row.rate,
        "ci_low": row.ci_low,
        "ci_high": row.ci_high,
    }


def cell_polygon(cell: str) -> dict:
    """The GeoJSON Polygon of an H3 cell: h3 gives (lat, lng) pairs; GeoJSON wants [lon, lat], ring closed."""
    import h3

    ring = [[round(lng, 7), round(lat, 7)] for lat, lng in h3.cell_to_boundary(cell)]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


@functools.lru_cache(maxsize=200_000)
def cell_polygon_json(cell: str) -> str:
    """`cell_polygon` already encoded: a cell's boundary never changes, so each is encoded once per process."""
    return json.dumps(cell_polygon(cell), separators=(",", ":"))


@functools.lru_cache(maxsize=200_000)
def _cell_feature_head(cell_int: int, resolution: int) -> str:
    # Everything of a cell's Feature that never changes: id, geometry and the start of its properties.
    import h3

    cell = h3.int_to_str(cell_int)
    return (
        f'{{"type":"Feature","id":"{cell}","geometry":{cell_polygon_json(cell)},'
        f'"properties":{{"cell":"{cell}","resolution":{resolution},'
    )


def _json_number(value: float | None) -> str:
    return "null" if value is None else repr(value)


@functools.lru_cache(maxsize=200_000)
def _figures_json(visits: int, violating: int) -> str:
    # The end of a cell's Feature: its figures. Cells share (visits, violating) pairs (most hold a few
    # visits), so each pair's rate and interval are computed and encoded once per process.
    low, high = wilson_interval(violating, visits)
    return (
        f'"visits":{visits},"violating_visits":{violating},"rate":{_json_number(violating / visits)},'
        f'"ci_low":{_json_number(low)},"ci_high":{_json_number(high)}}}}}'
    )


def heatmap_geojson(*, user, filters: AnalyticsFilters, resolution: int, with_municipalities: bool) -> str:
    """The heatmap as GeoJSON text: a FeatureCollection of cell Polygons with their figures (and, on
    request, a second collection `municipalities`). Encoded here from the GROUP BY rows, with each
    cell's cached geometry spliced in: encoding thousands of polygons with json.dumps on every request
    would cost more than the query itself."""
    parts = [
        _cell_feature_head(cell_int, resolution) + _figures_json(visits, violating)
        for cell_int, visits, violating in _cell_counts(user=user, filters=filters, resolution=resolution)
    ]
    text = '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]"
    if with_municipalities:
        text += ',"municipalities":' + json.dumps(municipality_layer(user=user, filters=filters), ensure_ascii=False)
    return text + "}"


def municipality_layer(*, user, filters: AnalyticsFilters) -> dict:
    """The municipalities in scope with their boundaries and rates (a second FeatureCollection)."""
    rates = {row.key: row for row in violation_rates(user=user, filters=filters, group_by="municipality")}
    municipalities = visible_to(Municipality.objects.filter(kind=Municipality.Kind.BALADIYA), user=user, field="id")
    if filters.municipality_id is not None:
        municipalities = municipalities.filter(id=filters.municipality_id)
    features = []
    for municipality in municipalities.exclude(boundary__isnull=True):
        row = rates.get(str(municipality.id))
        features.append(
            {
                "type": "Feature",
                "id": municipality.id,
                "geometry": municipality.boundary,
                "properties": {
                    "municipality_id": municipality.id,
                    "code": municipality.code,
                    "label": _label(municipality.name_ar, municipality.name_en),
                    **_figures(row.visits if row else 0, row.violating_visits if row else 0),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def findings_filtered(*, user, filters: AnalyticsFilters) -> QuerySet:
    """Findings in scope: dates filter on when the finding was opened, the rest on its visit."""
    findings = visible_to(Finding.objects.all(), user=user)
    start, end = local_day_bounds(date_from=filters.date_from, date_to=filters.date_to)
    if start:
        findings = findings.filter(opened_at__gte=start)
    if end:
        findings = findings.filter(opened_at__lt=end)
    if filters.municipality_id is not None:
        findings = findings.filter(municipality_id=filters.municipality_id)
    if filters.category_id is not None:
        findings = findings.filter(visit__category_id=filters.category_id)
    if filters.checklist_id is not None:
        findings = findings.filter(visit__checklist_version__checklist_id=filters.checklist_id)
    return findings


def overdue_findings(*, user, filters: AnalyticsFilters, limit: int = 20, offset: int = 0) -> tuple[int, list[Finding]]:
    """Open findings whose due date has passed (Asia/Riyadh today), oldest due first, and their count;
    `offset` pages on through them."""
    today = timezone.localdate()
    findings = findings_filtered(
        user=user,
        filters=AnalyticsFilters(
            municipality_id=filters.municipality_id, category_id=filters.category_id, checklist_id=filters.checklist_id
        ),
    ).filter(status=Finding.Status.OPEN, due_date__lt=today)
    total = findings.count()
    rows = list(
        findings.select_related("establishment", "municipality")
        .annotate(establishment_name_ar=F("establishment__name_ar"))
        .order_by("due_date", "id")[offset : offset + limit]
    )
    return total, rows


def hijri_label(day: date, *, english: bool | None = None) -> str | None:
    """`13 Jumada al-Akhirah 1448 AH` / `13 جمادى الآخرة 1448 هـ` (Umm al-Qura, the one calendar of
    every surface: inspections.domain.calendar); None outside its table (show the Gregorian date alone)."""
    english = is_english() if english is None else english
    return calendar.hijri_label(day, language="en" if english else "ar")
