"""The one scoping mechanism. Every selector that serves a user goes through `scope_for(user)`
and `visible_to(queryset, user=...)`, so a record outside the caller's municipalities is
simply not there (a 404 on detail endpoints, never a 403 that confirms it exists)."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from inspections.models import Membership, Municipality

Role = Membership.Role


@dataclass(frozen=True)
class Scope:
    """What a user may see: a role and the municipality ids in reach (`everything` for admins)."""

    role: str | None
    municipality_ids: frozenset[int]
    everything: bool = False
    whole_amanah: bool = False

    @property
    def is_inspector(self) -> bool:
        return self.role == Role.INSPECTOR

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def is_leadership(self) -> bool:
        return self.role == Role.LEADERSHIP

    @property
    def is_admin(self) -> bool:
        return self.everything

    def has_role(self, *roles: str) -> bool:
        return self.everything or self.role in roles

    def covers(self, municipality_id: int | None) -> bool:
        return self.everything or (municipality_id is not None and municipality_id in self.municipality_ids)


NO_SCOPE = Scope(role=None, municipality_ids=frozenset())


def scope_for(user: AbstractBaseUser | AnonymousUser | None) -> Scope:
    """The user's scope, computed once per request object (cached on the user instance)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_SCOPE
    cached = getattr(user, "_jawla_scope", None)
    if cached is not None:
        return cached
    membership = Membership.objects.filter(user=user).select_related("amanah").first()
    if user.is_superuser or (membership and membership.role == Role.ADMIN):
        scope = Scope(
            role=Role.ADMIN,
            municipality_ids=frozenset(Municipality.objects.values_list("id", flat=True)),
            everything=True,
        )
    elif membership is None:
        scope = NO_SCOPE
    else:
        ids = set(membership.municipalities.values_list("id", flat=True))
        if membership.amanah_id:
            ids.add(membership.amanah_id)
            ids.update(Municipality.objects.filter(parent_id=membership.amanah_id).values_list("id", flat=True))
        scope = Scope(role=membership.role, municipality_ids=frozenset(ids), whole_amanah=bool(membership.amanah_id))
    user._jawla_scope = scope
    return scope


def visible_to(queryset: QuerySet, *, user, field: str = "municipality") -> QuerySet:
    """Filter `queryset` to the rows whose `field` (a municipality FK path) is in the user's scope."""
    scope = scope_for(user)
    if scope.everything:
        return queryset
    if not scope.municipality_ids:
        return queryset.none()
    return queryset.filter(**{f"{field}__in": scope.municipality_ids})
