"""Institutional performance indicators per Amanah and municipality, by Gregorian or Hijri month.

Each indicator has a written definition (INDICATORS, served with the figures and in
docs/analytics.md), a Wilson 95% interval where it is a proportion, the target an admin set for
its scope or the nearest one above it, else for a municipality's class (`IndicatorTarget`, resolved
by analytics.targets) and a traffic light against it. Every figure is computed in the database over
the caller's scope (`visible_to`), grouped by municipality, and summed up to Amanahs and the total,
so a group's figure is always the figure of its rows (never an average of rates).

The institutional indicators read enforcement's notices and objections and community's cases (their
state derived by community's own `with_state`) directly: analytics sits on top of the apps whose
figures it reports, and none of them imports analytics (tests/test_architecture_imports.py).

A period is a closed range of Asia/Riyadh days: a Gregorian month, or an Umm al-Qura month through
hijridate (the one calendar of every surface).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from hijridate import Gregorian, Hijri

from analytics.models import IndicatorTarget, InspectorDay, VisitDay
from analytics.selectors import COMPLETED_OUTCOMES, AnalyticsFilters, local_day_bounds, rollup_rows, wilson_interval
from analytics.targets import TargetBook, class_label
from backend.exceptions import ApplicationError, ValidationFailedError
from community.models import Case
from community.selectors.cases import with_state
from enforcement.models import Objection, PenaltyNotice
from inspections.domain.names import localized_name
from inspections.models import Establishment, Finding, Municipality, RoundStop, Visit
from inspections.selectors.scope import visible_to

HIGH_RISK_SCORE = 50.0  # risk_score (0-100) at or above which an establishment counts as high risk
WORKING_DAYS = {6, 0, 1, 2, 3}  # Sunday to Thursday (date.weekday(): Monday is 0)


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    definition: str
    proportion: bool
    higher_is_better: bool


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "coverage",
        _("Inspection coverage"),
        _(
            "Share of active establishments with at least one completed inspection (outcome compliant or "
            "violations) in the period."
        ),
        True,
        True,
    ),
    Indicator(
        "coverage_high_risk",
        _("High-risk coverage"),
        _("The same share over active establishments whose risk score is 50 or more."),
        True,
        True,
    ),
    Indicator(
        "violation_rate",
        _("Violation rate"),
        _("Completed inspections in the period that found at least one violation, over completed inspections."),
        True,
        False,
    ),
    Indicator(
        "corrected_on_time",
        _("Findings corrected on time"),
        _(
            "Findings due in the period that were closed by a compliant visit on or before their due date. "
            "Findings of visits imported from history are left out (they were closed without a date)."
        ),
        True,
        True,
    ),
    Indicator(
        "follow_ups_on_time",
        _("Follow-ups done in their window"),
        _("Follow-up stops planned in the period (not cancelled) that were visited."),
        True,
        True,
    ),
    Indicator(
        "repeat_violation_rate",
        _("Repeat-violation rate"),
        _(
            "Findings opened in the period whose item had already failed at the same establishment in the "
            "365 days before, over findings opened in the period."
        ),
        True,
        False,
    ),
    Indicator(
        "median_days_to_closure",
        _("Median days from finding to closure"),
        _("Median of whole days from a finding's opening to its closure, over findings closed in the period."),
        False,
        False,
    ),
    Indicator(
        "inspections_per_inspector_day",
        _("Inspections per inspector per working day"),
        _(
            "Completed inspections in the period over (inspectors who made at least one visit in it × "
            "working days, Sunday to Thursday, in it)."
        ),
        False,
        True,
    ),
    Indicator(
        "penalties_issued",
        _("Penalties issued"),
        _("Penalty notices issued in the period (any status, cancelled ones included). Empty when none was issued."),
        False,
        True,
    ),
    Indicator(
        "penalties_amount_sar",
        _("Penalties amount (SAR)"),
        _(
            "Total amount in SAR now owed on the notices issued in the period, as objection decisions left "
            "it: a cancelled notice counts 0, a reduced one its reduced amount. Empty when none was issued."
        ),
        False,
        True,
    ),
    Indicator(
        "objections_upheld",
        _("Objections upheld"),
        _(
            "Objections decided in the period whose decision was 'penalty upheld' (the notice stands at its "
            "amount), over all objections decided in the period (upheld, reduced or cancelled)."
        ),
        True,
        True,
    ),
    Indicator(
        "reports_closed_on_target",
        _("Public reports closed within target"),
        _(
            "Public report cases closed in the period (the first visit of the stop they were triaged into "
            "finished in it) whose visit finished no more than COMMUNITY_CASE_TARGET_DAYS days (7 unless set) "
            "after the case was opened, over cases closed in the period. Dismissed cases are not counted."
        ),
        True,
        True,
    ),
)
BY_CODE = {indicator.code: indicator for indicator in INDICATORS}


@dataclass(frozen=True)
class Period:
    key: str
    calendar: str  # "gregorian" | "hijri"
    first: date
    last: date

    @property
    def working_days(self) -> int:
        days = (self.last - self.first).days + 1
        return sum(1 for n in range(days) if (self.first + timedelta(days=n)).weekday() in WORKING_DAYS)


def period_gregorian(*, year: int, month: int) -> Period:
    if not (1 <= month <= 12 and 1900 <= year <= 2100):
        raise ApplicationError(
            _("The month must be YYYY-MM between 1900 and 2100."), code="validation_error", status=422
        )
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return Period(key=f"{year:04d}-{month:02d}", calendar="gregorian", first=first, last=following - timedelta(days=1))


def period_hijri(*, year: int, month: int) -> Period:
    """An Umm al-Qura month; hijridate covers 1343-1500 AH, outside it the request is refused."""
    try:
        first = Hijri(year, month, 1).to_gregorian()
        following = Hijri(year + (month == 12), month % 12 + 1, 1).to_gregorian()
    except (ValueError, OverflowError) as error:
        raise ApplicationError(
            _("The Hijri month must be YYYY-MM between 1343 and 1500 AH."), code="validation_error", status=422
        ) from error
    return Period(
        key=f"{year:04d}-{month:02d}",
        calendar="hijri",
        first=date(first.year, first.month, first.day),
        last=date(following.year, following.month, following.day) - timedelta(days=1),
    )


@dataclass
class _Counts:
    """The numerators and denominators of one group, summed from its municipalities."""

    active: int = 0
    inspected: int = 0
    active_high: int = 0
    inspected_high: int = 0
    completed: int = 0
    violating: int = 0
    due: int = 0
    corrected_on_time: int = 0
    follow_ups: int = 0
    follow_ups_done: int = 0
    opened: int = 0
    repeats: int = 0
    notices: int = 0
    notices_amount: Decimal = Decimal("0.00")
    objections_decided: int = 0
    objections_upheld: int = 0
    cases_closed: int = 0
    cases_on_target: int = 0
    closure_days: list[int] = field(default_factory=list)
    inspector_ids: set[int] = field(default_factory=set)

    def add(self, other: _Counts) -> None:
        for name in (
            "active",
            "inspected",
            "active_high",
            "inspected_high",
            "completed",
            "violating",
            "due",
            "corrected_on_time",
            "follow_ups",
            "follow_ups_done",
            "opened",
            "repeats",
            "notices",
            "notices_amount",
            "objections_decided",
            "objections_upheld",
            "cases_closed",
            "cases_on_target",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.closure_days.extend(other.closure_days)
        self.inspector_ids |= other.inspector_ids


def _per_municipality(*, user, period: Period) -> dict[int, _Counts]:
    start, end = local_day_bounds(date_from=period.first, date_to=period.last)
    counts: dict[int, _Counts] = defaultdict(_Counts)
    establishments = visible_to(Establishment.objects.filter(status=Establishment.Status.ACTIVE), user=user)
    completed = visible_to(Visit.objects.filter(outcome__in=COMPLETED_OUTCOMES), user=user).filter(
        finished_at__gte=start, finished_at__lt=end
    )
    inspected_ids = completed.values("establishment_id")
    for row in establishments.values("municipality_id").annotate(
        active=Count("*"),
        inspected=Count("id", filter=Q(id__in=inspected_ids)),
        active_high=Count("id", filter=Q(risk_score__gte=HIGH_RISK_SCORE)),
        inspected_high=Count("id", filter=Q(risk_score__gte=HIGH_RISK_SCORE, id__in=inspected_ids)),
    ):
        group = counts[row["municipality_id"]]
        group.active, group.inspected = row["active"], row["inspected"]
        group.active_high, group.inspected_high = row["active_high"], row["inspected_high"]
    # Completed and violating visits, and who made them, from the daily roll-ups (the figures the
    # dashboard's rates read); only "inspected" needs the raw visits (roll-ups keep no establishment).
    days = AnalyticsFilters(date_from=period.first, date_to=period.last)
    for row in (
        rollup_rows(VisitDay, user=user, filters=days)
        .values("municipality_id")
        .annotate(completed=Sum("visits"), violating=Sum("violating"))
    ):
        counts[row["municipality_id"]].completed = row["completed"]
        counts[row["municipality_id"]].violating = row["violating"]
    inspectors = rollup_rows(InspectorDay, user=user, filters=days).values_list("municipality_id", "inspector_id")
    for municipality_id, inspector_id in inspectors.distinct():
        counts[municipality_id].inspector_ids.add(inspector_id)

    findings = visible_to(Finding.objects.all(), user=user)
    for row in (
        findings.filter(visit__imported__isnull=True, due_date__gte=period.first, due_date__lte=period.last)
        .values("municipality_id")
        .annotate(
            due=Count("*"),
            on_time=Count(
                "id",
                filter=Q(status=Finding.Status.CLOSED, closed_at__lt=F("due_date") + timedelta(days=1)),
            ),
        )
    ):
        counts[row["municipality_id"]].due = row["due"]
        counts[row["municipality_id"]].corrected_on_time = row["on_time"]
    opened = findings.filter(opened_at__gte=start, opened_at__lt=end)
    for row in opened.values("municipality_id").annotate(n=Count("*")):
        counts[row["municipality_id"]].opened = row["n"]
    repeat_ids = set(
        opened.filter(
            Q(
                establishment__findings__item_code=F("item_code"),
                establishment__findings__opened_at__lt=F("opened_at"),
                establishment__findings__opened_at__gte=F("opened_at") - timedelta(days=365),
            )
        )
        .values_list("id", flat=True)
        .distinct()
    )
    for municipality_id in opened.filter(id__in=repeat_ids).values_list("municipality_id", flat=True):
        counts[municipality_id].repeats += 1
    for municipality_id, opened_at, closed_at in findings.filter(
        status=Finding.Status.CLOSED, closed_at__gte=start, closed_at__lt=end
    ).values_list("municipality_id", "opened_at", "closed_at"):
        counts[municipality_id].closure_days.append((closed_at - opened_at).days)

    stops = visible_to(RoundStop.objects.all(), user=user, field="round__municipality").filter(
        is_follow_up=True, round__date__gte=period.first, round__date__lte=period.last
    )
    for row in (
        stops.exclude(status=RoundStop.Status.CANCELLED)
        .values("round__municipality_id")
        .annotate(planned=Count("*"), done=Count("id", filter=Q(status=RoundStop.Status.VISITED)))
    ):
        counts[row["round__municipality_id"]].follow_ups = row["planned"]
        counts[row["round__municipality_id"]].follow_ups_done = row["done"]
    _enforcement_counts(counts, user=user, start=start, end=end)
    _case_counts(counts, user=user, start=start, end=end)
    return counts


def _enforcement_counts(counts: dict[int, _Counts], *, user, start, end) -> None:
    """Notices issued and objections decided in the period, per the notice's municipality."""
    notices = visible_to(PenaltyNotice.objects.all(), user=user).filter(issued_at__gte=start, issued_at__lt=end)
    for row in notices.values("municipality_id").annotate(n=Count("*"), amount=Sum("amount_sar")):
        counts[row["municipality_id"]].notices = row["n"]
        counts[row["municipality_id"]].notices_amount = row["amount"] or Decimal("0.00")
    objections = visible_to(Objection.objects.all(), user=user, field="notice__municipality").filter(
        status="decided", decided_at__gte=start, decided_at__lt=end
    )
    for row in objections.values("notice__municipality_id").annotate(
        n=Count("*"), upheld=Count("id", filter=Q(decision="upheld"))
    ):
        counts[row["notice__municipality_id"]].objections_decided = row["n"]
        counts[row["notice__municipality_id"]].objections_upheld = row["upheld"]


def _case_counts(counts: dict[int, _Counts], *, user, start, end) -> None:
    """Public report cases closed in the period, and those closed within the target, through
    community's own state expression."""
    target = timedelta(days=getattr(settings, "COMMUNITY_CASE_TARGET_DAYS", 7))
    cases = with_state(visible_to(Case.objects.all(), user=user))
    for municipality_id, opened_at, finished_at in cases.filter(
        state="closed", visit_finished_at__gte=start, visit_finished_at__lt=end
    ).values_list("municipality_id", "opened_at", "visit_finished_at"):
        counts[municipality_id].cases_closed += 1
        counts[municipality_id].cases_on_target += finished_at - opened_at <= target


def _proportion(numerator: int, denominator: int) -> dict:
    low, high = wilson_interval(numerator, denominator)
    value = numerator / denominator if denominator else None
    return {"value": value, "numerator": numerator, "denominator": denominator, "ci_low": low, "ci_high": high}


def _figures(counts: _Counts, period: Period) -> dict[str, dict]:
    person_days = len(counts.inspector_ids) * period.working_days
    return {
        "coverage": _proportion(counts.inspected, counts.active),
        "coverage_high_risk": _proportion(counts.inspected_high, counts.active_high),
        "violation_rate": _proportion(counts.violating, counts.completed),
        "corrected_on_time": _proportion(counts.corrected_on_time, counts.due),
        "follow_ups_on_time": _proportion(counts.follow_ups_done, counts.follow_ups),
        "repeat_violation_rate": _proportion(counts.repeats, counts.opened),
        "median_days_to_closure": {
            "value": float(statistics.median(counts.closure_days)) if counts.closure_days else None,
            "numerator": None,
            "denominator": len(counts.closure_days),
            "ci_low": None,
            "ci_high": None,
        },
        "inspections_per_inspector_day": {
            "value": counts.completed / person_days if person_days else None,
            "numerator": counts.completed,
            "denominator": person_days,
            "ci_low": None,
            "ci_high": None,
        },
        "penalties_issued": {
            "value": counts.notices or None,
            "numerator": None,
            "denominator": counts.notices,
            "ci_low": None,
            "ci_high": None,
        },
        "penalties_amount_sar": {
            "value": float(counts.notices_amount) if counts.notices else None,
            "numerator": None,
            "denominator": counts.notices,
            "ci_low": None,
            "ci_high": None,
        },
        "objections_upheld": _proportion(counts.objections_upheld, counts.objections_decided),
        "reports_closed_on_target": _proportion(counts.cases_on_target, counts.cases_closed),
    }


def traffic_light(*, indicator: Indicator, value: float | None, target: IndicatorTarget | None) -> str | None:
    """green: meets the target; amber: within the target's margin of it; red: further; None without
    a target or a value."""
    if target is None or value is None:
        return None
    gap = (value - target.target) if indicator.higher_is_better else (target.target - value)
    if gap >= 0:
        return "green"
    return "amber" if -gap <= target.amber_margin else "red"


def scope_choice(*, user, municipality_id: int) -> tuple[Municipality, set[int]]:
    """The municipality (or Amanah) a caller narrowed the indicators to, and the ids it covers (an
    Amanah covers itself and its municipalities). Unknown or outside the caller's scope: refused
    with the same answer either way (422), so nothing is filtered halfway."""
    chosen = municipality_in_scope(user=user, municipality_id=municipality_id, loc=["query", "municipality"])
    visible = visible_to(Municipality.objects.defer("boundary"), user=user, field="id")
    ids = {chosen.pk} | set(visible.filter(parent_id=chosen.pk).values_list("pk", flat=True))
    return chosen, ids


def municipality_in_scope(*, user, municipality_id: int, loc: list[str]) -> Municipality:
    """The municipality or Amanah `municipality_id` if the user sees it; unknown and out of scope are
    refused alike (422, the error at `loc`), so nobody learns which ids exist elsewhere."""
    chosen = (
        visible_to(Municipality.objects.defer("boundary"), user=user, field="id").filter(pk=municipality_id).first()
    )
    if chosen is None:
        raise ValidationFailedError(_("No municipality with this id in your scope."), loc=loc, msg="not in scope")
    return chosen


def indicators_table(*, user, period: Period, group_by: str, municipality_ids: set[int] | None = None) -> list[dict]:
    """One row per group ("municipality", "amanah", "municipality_class" or "total"), each with every
    indicator's value, interval, numerator and denominator, target and traffic light; only over
    `municipality_ids` when given (scope_choice). A row's `scope` is the municipality or Amanah its
    targets resolve for (analytics.targets; None: the national default) and `scope_class` the class
    whose national target it falls back to (a municipality's class, a class row's; None for an Amanah
    or the nation); each figure's `target_scope` / `target_class` say where its target was set."""
    per_municipality = _per_municipality(user=user, period=period)
    english = translation.get_language() == "en"
    municipalities = {
        municipality.pk: municipality
        for municipality in visible_to(
            Municipality.objects.select_related("parent").defer("boundary", "parent__boundary"), user=user, field="id"
        )
        if municipality_ids is None or municipality.pk in municipality_ids
    }
    book = TargetBook.load()
    groups: dict[str, tuple[str, _Counts, int | None, set[int]]] = {}
    for municipality_id, municipality in municipalities.items():
        if municipality.parent_id is None and group_by != "amanah":
            continue  # an Amanah itself holds no establishments
        if group_by == "municipality":
            key, label, scope = (
                str(municipality_id),
                localized_name(municipality, "en" if english else "ar"),
                municipality_id,
            )
        elif group_by == "amanah":
            amanah = municipality.parent or municipality
            key, label, scope = str(amanah.pk), localized_name(amanah, "en" if english else "ar"), amanah.pk
        elif group_by == "municipality_class":
            key = municipality.municipality_class
            label, scope = class_label(key), None  # its scope: the one covering its members, below
        else:
            key, label, scope = "total", str(_("All")), None  # its scope: the one covering its members, below
        _label, total, _scope, members = groups.setdefault(key, (label, _Counts(), scope, set()))
        total.add(per_municipality.get(municipality_id, _Counts()))
        members.add(municipality_id)
    rows = []
    for key, (label, counts, scope, members) in sorted(groups.items(), key=lambda item: item[1][0]):
        if group_by in ("total", "municipality_class"):
            scope = book.common_scope(members)
        # A class row is its class; any other row's class is its scope's (a municipality's, else none).
        held_class = key if group_by == "municipality_class" else book.scope_class(scope)
        figures = _figures(counts, period)
        for code, figure in figures.items():
            target, fields = book.figure_target(code=code, scope_id=scope, municipality_class=held_class)
            figure.update(fields)
            figure["light"] = traffic_light(indicator=BY_CODE[code], value=figure["value"], target=target)
        rows.append(
            {
                "key": key,
                "label": label,
                "scope": scope,
                "scope_label": book.scope_label(scope),
                "scope_class": held_class,
                "indicators": figures,
            }
        )
    return rows


def hijri_key(day: date) -> str:
    hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    return f"{hijri.year:04d}-{hijri.month:02d}"
