"""Flagged visits (the review queue) and the inspector's returned visits."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from inspections.models import AuditEvent, Visit, VisitReview
from inspections.selectors.scope import visible_to

REVIEW_DAYS = 30


def _limits() -> tuple[timedelta, timedelta]:
    return (
        timedelta(minutes=getattr(settings, "REVIEW_MIN_VISIT_MINUTES", 3)),
        timedelta(minutes=getattr(settings, "REVIEW_MAX_VISIT_MINUTES", 180)),
    )


def _differed_ids(visit_ids=None) -> set[int]:
    """Visits whose client_id was replayed with a different payload (recorded in the audit trail by sync)."""
    events = AuditEvent.objects.filter(object_type=Visit._meta.label_lower, action__contains="differ")
    return {int(pk) for pk in events.values_list("object_id", flat=True) if str(pk).isdigit()}


def visit_flags(visit: Visit, *, differed: set[int]) -> list[str]:
    """Why a visit needs a supervisor's eye (empty: it does not)."""
    shortest, longest = _limits()
    flags = []
    if visit.geo_status == Visit.GeoStatus.OUT_OF_RANGE:
        flags.append("out_of_range")
    if visit.impossible_travel:
        flags.append("impossible_travel")
    duration = visit.finished_at - visit.started_at
    if duration < shortest:
        flags.append("too_short")
    if duration > longest:
        flags.append("too_long")
    if visit.pk in differed:
        flags.append("replay_differed")
    return flags


def review_queue(*, user, municipality_id: int | None = None, days: int = REVIEW_DAYS) -> tuple[QuerySet, set[int]]:
    """Flagged visits in scope from the last `days` days that wait for a decision (never reviewed, or
    answered by the inspector after a return), newest first; and the ids of replayed-differently visits."""
    shortest, longest = _limits()
    differed = _differed_ids()
    since = timezone.now() - timedelta(days=days)
    visits = (
        visible_to(Visit.objects.all(), user=user)
        .filter(finished_at__gte=since)
        .annotate(duration=ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField()))
        .filter(
            Q(geo_status=Visit.GeoStatus.OUT_OF_RANGE)
            | Q(impossible_travel=True)
            | Q(duration__lt=shortest)
            | Q(duration__gt=longest)
            | Q(pk__in=differed)
        )
        .filter(Q(review__isnull=True) | Q(review__status=VisitReview.Status.ANSWERED))
        .select_related("establishment", "inspector", "review")
        .order_by("-finished_at", "-id")
    )
    if municipality_id is not None:
        visits = visits.filter(municipality_id=municipality_id)
    return visits, differed


def returned_visits(*, user) -> QuerySet[Visit]:
    """The caller's visits a supervisor sent back and they have not answered yet."""
    return (
        visible_to(Visit.objects.filter(inspector=user), user=user)
        .filter(review__status=VisitReview.Status.RETURNED)
        .select_related("establishment", "review")
        .order_by("-review__decided_at")
    )
