"""The one scoping mechanism. Every selector that serves a user goes through `scope_for(user)`
and `visible_to(queryset, user=...)`, so a record outside the caller's municipalities is
simply not there (a 404 on detail endpoints, never a 403 that confirms it exists)."""

import time
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db.models import QuerySet

from backend.cache import cache_quietly
from inspections.models import Membership, Municipality

Role = Membership.Role


@dataclass(frozen=True)
class Scope:
    """What a user may see: a role and the municipality ids in reach (`everything` for admins)."""

    role: str | None
    municipality_ids: frozenset[int]
    everything: bool = False
    whole_amanah: bool = False
    national: bool = False  # the ministry's leadership: every Amanah, read-only (role stays leadership)

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


# A scope costs two or three queries and every request needs one, so it is kept in the shared cache
# under the user's id with the generation it was computed in. Any change to a membership, its
# municipalities or a municipality bumps the generation once the change is committed
# (`scope_cache_clear`, wired to the models' signals in inspections/signals.py): a request that
# read the new generation reads the committed change, and every older entry stops matching, so a
# revoked membership is out at the next request. SCOPE_CACHE_SECONDS bounds what a change made
# outside Django (raw SQL) could leave behind.
SCOPE_CACHE_SECONDS = 300
_GENERATION_KEY = "scope:generation"


def _user_key(user_id: int) -> str:
    return f"scope:user:{user_id}"


def scope_for(user: AbstractBaseUser | AnonymousUser | None) -> Scope:
    """The user's scope: once per request object (kept on the user instance), and across requests
    in the shared cache (one round trip instead of the membership queries)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_SCOPE
    cached = getattr(user, "_jawla_scope", None)
    if cached is not None:
        return cached
    found = cache_quietly(lambda: cache.get_many([_GENERATION_KEY, _user_key(user.pk)]), None)
    if found is None:  # the cache is down: the database answers
        scope = _scope_query(user)
    else:
        generation = found.get(_GENERATION_KEY)
        if generation is None:
            generation = cache_quietly(_generation_start, None)
        entry = found.get(_user_key(user.pk))
        if entry is not None and entry[0] == generation and entry[1] == user.is_superuser:
            scope = entry[2]
        else:
            scope = _scope_query(user)
            if generation is not None:
                value = (generation, user.is_superuser, scope)
                cache_quietly(lambda: cache.set(_user_key(user.pk), value, SCOPE_CACHE_SECONDS), None)
    user._jawla_scope = scope
    return scope


def scope_cache_clear() -> None:
    """Invalidate every cached scope (a membership or a municipality changed); call after commit.

    If the cache is unreachable the bump is lost, but so is every read until it answers again; the
    entries it still holds then are at most SCOPE_CACHE_SECONDS old."""

    def bump() -> None:
        try:
            cache.incr(_GENERATION_KEY)
        except ValueError:  # not there yet, or evicted
            _generation_start()

    cache_quietly(bump, None)


def _generation_start() -> int:
    """A generation no earlier entry can carry: the clock in nanoseconds (far above any count of
    increments an evicted generation could have reached)."""
    cache.add(_GENERATION_KEY, time.time_ns(), None)
    return cache.get(_GENERATION_KEY, 0)


def _scope_query(user) -> Scope:
    membership = Membership.objects.filter(user=user).select_related("amanah").first()
    if user.is_superuser or (membership and membership.role == Role.ADMIN):
        return Scope(
            role=Role.ADMIN,
            municipality_ids=frozenset(Municipality.objects.values_list("id", flat=True)),
            everything=True,
        )
    if membership is None:
        return NO_SCOPE
    if membership.national and membership.role == Role.LEADERSHIP:
        # Every Amanah and its municipalities; the role stays leadership, so nothing is writable.
        return Scope(
            role=membership.role,
            municipality_ids=frozenset(Municipality.objects.values_list("id", flat=True)),
            whole_amanah=True,
            national=True,
        )
    ids = set(membership.municipalities.values_list("id", flat=True))
    if membership.amanah_id:
        ids.add(membership.amanah_id)
        ids.update(Municipality.objects.filter(parent_id=membership.amanah_id).values_list("id", flat=True))
    return Scope(role=membership.role, municipality_ids=frozenset(ids), whole_amanah=bool(membership.amanah_id))


def visible_to(queryset: QuerySet, *, user, field: str = "municipality") -> QuerySet:
    """Filter `queryset` to the rows whose `field` (a municipality FK path) is in the user's scope."""
    scope = scope_for(user)
    if scope.everything:
        return queryset
    if not scope.municipality_ids:
        return queryset.none()
    return queryset.filter(**{f"{field}__in": scope.municipality_ids})
