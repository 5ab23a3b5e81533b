"""Checklist reads. Checklists are not municipal data: every signed-in user sees the active ones
with their published version; drafts are for administrators only."""

from django.db.models import Count, Prefetch, Q, QuerySet

from inspections.models import Checklist, ChecklistItem, ChecklistVersion
from inspections.selectors.scope import scope_for

PUBLISHED = ChecklistVersion.Status.PUBLISHED


def _items() -> Prefetch:
    return Prefetch("items", queryset=ChecklistItem.objects.prefetch_related("categories").order_by("position", "id"))


def visible_checklists(*, user) -> QuerySet[Checklist]:
    """Active checklists (every checklist for administrators), with their published version prefetched
    as `published` (a one-element list or empty)."""
    scope = scope_for(user)
    if scope.role is None:
        return Checklist.objects.none()
    checklists = Checklist.objects.all()
    if not scope.is_admin:
        checklists = checklists.filter(is_active=True)
    return checklists.prefetch_related(
        "categories",
        Prefetch(
            "versions",
            queryset=ChecklistVersion.objects.filter(status=PUBLISHED)
            .annotate(item_count=Count("items"))
            .prefetch_related(_items()),
            to_attr="published",
        ),
    ).order_by("code")


def checklist_list(*, user, category: str | None = None, published_only: bool = False) -> QuerySet[Checklist]:
    checklists = visible_checklists(user=user)
    if category:
        checklists = checklists.filter(Q(categories__code=category) | Q(categories__isnull=True)).distinct()
    if published_only:
        checklists = checklists.filter(versions__status=PUBLISHED).distinct()
    return checklists


def visible_checklist_versions(*, user) -> QuerySet[ChecklistVersion]:
    """Published and retired versions (a visit may have used a retired one); drafts for administrators."""
    scope = scope_for(user)
    if scope.role is None:
        return ChecklistVersion.objects.none()
    versions = ChecklistVersion.objects.select_related("checklist").prefetch_related(_items())
    if not scope.is_admin:
        versions = versions.exclude(status=ChecklistVersion.Status.DRAFT)
    return versions


def published_version_ids(*, checklist_ids: list[int]) -> dict[int, int]:
    """checklist id → id of its published version."""
    return dict(
        ChecklistVersion.objects.filter(checklist_id__in=checklist_ids, status=PUBLISHED).values_list(
            "checklist_id", "id"
        )
    )
