"""Inspectors as supervisors see them: who works in my municipalities, their load, where they were
last seen, and how consistent their findings are with the mix of shops they visit."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from inspections.domain.consistency import Consistency, standardise
from inspections.models import Membership, Municipality, Round, RoundStop, Visit
from inspections.selectors.scope import scope_for, visible_to

User = get_user_model()


def visible_inspectors(*, user, municipality_id: int | None = None) -> QuerySet:
    """Active inspectors who work in at least one municipality of the caller's scope."""
    scope = scope_for(user)
    inspectors = User.objects.filter(is_active=True, membership__role=Membership.Role.INSPECTOR)
    if municipality_id is not None:
        if not scope.covers(municipality_id):
            return inspectors.none()
        ids = {municipality_id}
    elif scope.everything:
        return inspectors.select_related("membership").order_by("username")
    else:
        ids = set(scope.municipality_ids)
    if not ids:
        return inspectors.none()
    parents = set(Municipality.objects.filter(pk__in=ids).exclude(parent=None).values_list("parent_id", flat=True))
    covers = Q(membership__municipalities__in=ids) | Q(membership__amanah_id__in=ids | parents)
    return inspectors.filter(covers).distinct().select_related("membership").order_by("username")


@dataclass
class Workload:
    today_stops: int = 0
    today_visited: int = 0
    today_pending: int = 0
    today_missed: int = 0
    week_stops: int = 0


@dataclass
class LastSeen:
    at: object
    lat: float | None
    lon: float | None
    visit_id: int
    establishment_id: int
    establishment_name: str


def workloads(*, inspector_ids: list[int], today: date) -> dict[int, Workload]:
    """Published rounds' stops: today's by status, and the next seven days' total."""
    result: dict[int, Workload] = defaultdict(Workload)
    rows = (
        RoundStop.objects.filter(
            round__inspector_id__in=inspector_ids,
            round__date__gte=today,
            round__date__lt=today + timedelta(days=7),
            round__is_draft=False,
        )
        .exclude(round__status=Round.Status.CANCELLED)
        .exclude(status=RoundStop.Status.CANCELLED)
        .values("round__inspector_id", "round__date", "status")
        .annotate(n=Count("*"))
    )
    for row in rows:
        load = result[row["round__inspector_id"]]
        load.week_stops += row["n"]
        if row["round__date"] == today:
            load.today_stops += row["n"]
            if row["status"] == RoundStop.Status.VISITED:
                load.today_visited += row["n"]
            elif row["status"] == RoundStop.Status.MISSED:
                load.today_missed += row["n"]
            else:
                load.today_pending += row["n"]
    return result


def last_seen(*, inspector_ids: list[int]) -> dict[int, LastSeen]:
    """Each inspector's latest visit fix (time and place), one query per batch on PostgreSQL and SQLite."""
    found: dict[int, LastSeen] = {}
    if not inspector_ids:
        return found
    since = timezone.now() - timedelta(days=60)
    rows = (
        Visit.objects.filter(inspector_id__in=inspector_ids, finished_at__gte=since)
        .order_by("inspector_id", "-finished_at", "-id")
        .values_list("inspector_id", "finished_at", "lat", "lon", "id", "establishment_id", "establishment__name_ar")
    )
    for inspector_id, at, lat, lon, visit_id, establishment_id, name in rows.iterator(2000):
        if inspector_id not in found:
            found[inspector_id] = LastSeen(at, lat, lon, visit_id, establishment_id, name)
    return found


def consistency(*, user, days: int = 90, municipality_id: int | None = None) -> dict[int, Consistency]:
    """Per inspector in scope: observed vs expected violations over the last `days`, the expectation
    from the category rates of every visit in the caller's scope over the same period."""
    since = timezone.now() - timedelta(days=days)
    visits = visible_to(Visit.objects.filter(finished_at__gte=since), user=user)
    if municipality_id is not None:
        visits = visits.filter(municipality_id=municipality_id)
    totals = visits.values("category_id").annotate(n=Count("*"), bad=Count("id", filter=Q(has_violation=True)))
    rates = {str(row["category_id"]): row["bad"] / row["n"] for row in totals if row["n"]}
    per_inspector: dict[int, list] = defaultdict(list)
    rows = visits.values("inspector_id", "category_id", "has_violation").annotate(n=Count("*"))
    for row in rows:
        per_inspector[row["inspector_id"]].extend([(str(row["category_id"]), row["has_violation"])] * row["n"])
    return {inspector_id: standardise(pairs, rates) for inspector_id, pairs in per_inspector.items()}
