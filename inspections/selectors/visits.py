"""Reads of visits, scoped to the caller's municipalities (inspectors see their municipality's visits)."""

from datetime import date, timedelta

from django.db.models import Prefetch, QuerySet

from inspections.domain.calendar import local_day_start
from inspections.models import Answer, Finding, Photo, Visit, VisitAmendment
from inspections.selectors.scope import visible_to


def visible_visits(*, user) -> QuerySet[Visit]:
    return visible_to(Visit.objects.all(), user=user)


def visits_list(
    *,
    user,
    date_from: date | None = None,
    date_to: date | None = None,
    municipality: int | None = None,
    establishment: int | None = None,
    inspector: int | None = None,
    outcome: str | None = None,
    geo_status: str | None = None,
    impossible_travel: bool | None = None,
    has_violation: bool | None = None,
) -> QuerySet[Visit]:
    """Visits in scope, newest first. Dates are local days (inclusive) on the device's finished_at."""
    visits = visible_visits(user=user)
    if date_from is not None:
        visits = visits.filter(finished_at__gte=local_day_start(date_from))
    if date_to is not None:
        visits = visits.filter(finished_at__lt=local_day_start(date_to + timedelta(days=1)))
    if municipality is not None:
        visits = visits.filter(municipality_id=municipality)
    if establishment is not None:
        visits = visits.filter(establishment_id=establishment)
    if inspector is not None:
        visits = visits.filter(inspector_id=inspector)
    if outcome is not None:
        visits = visits.filter(outcome=outcome)
    if geo_status is not None:
        visits = visits.filter(geo_status=geo_status)
    if impossible_travel is not None:
        visits = visits.filter(impossible_travel=impossible_travel)
    if has_violation is not None:
        visits = visits.filter(has_violation=has_violation)
    return visits.prefetch_related(
        Prefetch("amendments", queryset=VisitAmendment.objects.order_by("created_at", "id"))
    ).order_by("-finished_at", "-id")


def visit_detail_queryset(*, user) -> QuerySet[Visit]:
    """Visits in scope with everything the detail answer shows, prefetched."""
    return visible_visits(user=user).prefetch_related(
        Prefetch("answers", queryset=Answer.objects.order_by("id")),
        Prefetch("findings", queryset=Finding.objects.order_by("id")),
        Prefetch("closed_findings", queryset=Finding.objects.order_by("id")),
        Prefetch("photos", queryset=Photo.objects.select_related("answer").order_by("id")),
        Prefetch("amendments", queryset=VisitAmendment.objects.order_by("created_at", "id")),
    )


def effective_outcome(visit: Visit) -> str:
    """The outcome after amendments (the latest amendment that sets one wins); the row keeps the original."""
    outcome = visit.outcome
    for amendment in visit.amendments.all():
        change = (amendment.changes or {}).get("outcome")
        if isinstance(change, dict) and "to" in change:
            outcome = change["to"]
    return outcome
