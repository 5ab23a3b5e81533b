"""Risk of each establishment, with its factors (inspections.domain.risk), and when it is due.

Computed on the fly from the history in a handful of set-based queries (findings, latest visit,
category rates), so the ranked queue and the planner always see the same, current figures.

Apps built on inspections add factors through settings.RISK_EXTRA_FACTORS: {factor name: dotted path
of a callable (establishment_ids) -> {establishment_id: points}}, chosen the way Django chooses
EMAIL_BACKEND. Inspections imports none of them (e.g. "confirmed_reports" is
community.selectors.risk.confirmed_report_factor: a public report an inspection confirmed).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings as django_settings
from django.db.models import Count, Max, Q
from django.utils.module_loading import import_string

from inspections.domain.risk import RiskAssessment, RiskInputs, risk_assess, risk_class, with_extra_factors
from inspections.models import Establishment, Finding, PlanSettings, Visit

DAYS_PER_MONTH = 30.44
CATEGORY_RATE_DAYS = 365


@dataclass(frozen=True)
class EstablishmentRisk:
    establishment: Establishment
    assessment: RiskAssessment
    risk_class: str
    last_inspection: date | None
    due_date: date
    open_findings: int
    follow_up_due: date | None  # the earliest due date of its open findings

    def overdue_days(self, today: date) -> int:
        return max((today - self.due_date).days, 0)


def plan_settings_for(municipality_id: int) -> PlanSettings:
    """The municipality's settings, or the defaults (unsaved) when it has none."""
    found = PlanSettings.objects.filter(municipality_id=municipality_id).first()
    return found or PlanSettings(municipality_id=municipality_id)


def interval_days(settings: PlanSettings, klass: str) -> int:
    months = {
        "high": settings.high_every_months,
        "medium": settings.medium_every_months,
        "low": settings.low_every_months,
    }[klass]
    return round(months * DAYS_PER_MONTH)


def extra_factor_providers() -> dict[str, object]:
    """The configured extra factors: {name: callable(establishment_ids) -> {establishment_id: points}}."""
    configured = getattr(django_settings, "RISK_EXTRA_FACTORS", None) or {}
    return {name: import_string(path) for name, path in configured.items()}


def extra_factors(establishment_ids) -> dict[int, dict[str, float]]:
    """{establishment_id: {factor name: points}} from every configured provider (one call each)."""
    ids = list(establishment_ids)
    result: dict[int, dict[str, float]] = defaultdict(dict)
    if not ids:
        return result
    for name, provider in extra_factor_providers().items():
        for establishment_id, points in provider(ids).items():
            if points:
                result[establishment_id][name] = float(points)
    return result


def establishments_risk(*, municipality_id: int, today: date, establishment_ids=None) -> list[EstablishmentRisk]:
    """Every active establishment of the municipality (or the given ones) with its risk and due date."""
    settings = plan_settings_for(municipality_id)
    establishments = Establishment.objects.filter(municipality_id=municipality_id, status=Establishment.Status.ACTIVE)
    if establishment_ids is not None:
        establishments = establishments.filter(pk__in=establishment_ids)
    establishments = list(establishments.select_related("category").order_by("id"))
    ids = [e.pk for e in establishments]
    violations: dict[int, list] = defaultdict(list)
    open_counts: dict[int, int] = defaultdict(int)
    follow_up_due: dict[int, date] = {}
    for establishment_id, severity, opened_at, status, due in Finding.objects.filter(
        municipality_id=municipality_id, establishment_id__in=ids
    ).values_list("establishment_id", "severity", "opened_at", "status", "due_date"):
        violations[establishment_id].append((severity, opened_at.date()))
        if status == Finding.Status.OPEN:
            open_counts[establishment_id] += 1
            if establishment_id not in follow_up_due or due < follow_up_due[establishment_id]:
                follow_up_due[establishment_id] = due
    last = dict(
        Visit.objects.filter(municipality_id=municipality_id, establishment_id__in=ids)
        .values("establishment_id")
        .annotate(last=Max("finished_at"))
        .values_list("establishment_id", "last")
    )
    since = today - timedelta(days=CATEGORY_RATE_DAYS)
    rates = {
        row["category_id"]: row["bad"] / row["n"]
        for row in Visit.objects.filter(municipality_id=municipality_id, finished_at__date__gte=since)
        .values("category_id")
        .annotate(n=Count("*"), bad=Count("id", filter=Q(has_violation=True)))
        if row["n"]
    }
    extras = extra_factors(ids)
    result = []
    for establishment in establishments:
        last_day = last[establishment.pk].date() if establishment.pk in last else None
        assessment = risk_assess(
            RiskInputs(
                violations=violations.get(establishment.pk, ()),
                last_inspection=last_day,
                category_rate=rates.get(establishment.category_id),
                licensed_on=establishment.created_at.date(),
                open_findings=open_counts.get(establishment.pk, 0),
            ),
            today=today,
        )
        if establishment.pk in extras:
            assessment = with_extra_factors(assessment, extras[establishment.pk])
        klass = risk_class(assessment.score, high=settings.high_threshold, medium=settings.medium_threshold)
        if last_day is None:
            due = establishment.created_at.date() + timedelta(days=settings.new_licence_days)
        else:
            due = last_day + timedelta(days=interval_days(settings, klass))
        result.append(
            EstablishmentRisk(
                establishment=establishment,
                assessment=assessment,
                risk_class=klass,
                last_inspection=last_day,
                due_date=due,
                open_findings=open_counts.get(establishment.pk, 0),
                follow_up_due=follow_up_due.get(establishment.pk),
            )
        )
    return result
