"""Reads of municipalities. The list is the same for every signed-in user (the contract says "all":
names and boundaries are public reference data); `in_scope_only` narrows it to the caller's own."""

from django.db.models import QuerySet

from inspections.models import Municipality
from inspections.selectors.scope import scope_for


def municipality_list(*, user, kind: str | None = None, in_scope_only: bool = False) -> QuerySet[Municipality]:
    queryset = Municipality.objects.defer("boundary").order_by("kind", "code")
    if kind:
        queryset = queryset.filter(kind=kind)
    if in_scope_only:
        scope = scope_for(user)
        if not scope.everything:
            queryset = queryset.filter(id__in=scope.municipality_ids)
    return queryset


def municipality_get(*, user, municipality_id: int) -> Municipality:
    """One municipality with its boundary; raises Municipality.DoesNotExist (a 404) when unknown."""
    return Municipality.objects.get(pk=municipality_id)
