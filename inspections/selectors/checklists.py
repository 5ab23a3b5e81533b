"""Checklist reads. Checklists are not municipal data: every signed-in user sees the active ones
with their published version; drafts are for administrators only."""

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, QuerySet

from backend.cache import cache_quietly
from inspections.models import Checklist, ChecklistItem, ChecklistVersion
from inspections.selectors.scope import scope_for

PUBLISHED = ChecklistVersion.Status.PUBLISHED
# checklist id → published version id, for every checklist: read on each round answer (the phone's
# delta sync above all), changed only when a version is published (inspections/signals.py clears it).
PUBLISHED_CACHE_KEY = "checklists:published-versions"
PUBLISHED_CACHE_SECONDS = 3600


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
    """checklist id → id of its published version (checklists without one are left out)."""
    if not checklist_ids:
        return {}
    published = cache_quietly(lambda: cache.get(PUBLISHED_CACHE_KEY), None)
    if published is None:
        published = dict(ChecklistVersion.objects.filter(status=PUBLISHED).values_list("checklist_id", "id"))
        cache_quietly(lambda: cache.set(PUBLISHED_CACHE_KEY, published, PUBLISHED_CACHE_SECONDS), None)
    return {pk: published[pk] for pk in checklist_ids if pk in published}


def published_versions_forget() -> None:
    """A version was published or removed: the next read rebuilds the map."""
    cache_quietly(lambda: cache.delete(PUBLISHED_CACHE_KEY), None)
