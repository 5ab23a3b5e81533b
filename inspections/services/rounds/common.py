"""What the rounds modules share: the limits, the scope checks of planning, stop helpers."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError, PermissionDeniedError
from inspections.domain.routing import route_optimize
from inspections.models import (
    Checklist,
    ChecklistVersion,
    Establishment,
    Membership,
    Round,
    RoundStop,
)
from inspections.selectors.scope import scope_for

User = get_user_model()
MAX_STOPS = 60
MAX_DAYS_AHEAD = 366
OPEN_STATUSES = (Round.Status.PLANNED, Round.Status.IN_PROGRESS)
ACTIVE_STOP_STATUSES = (RoundStop.Status.PENDING, RoundStop.Status.VISITED, RoundStop.Status.MISSED)


def _require_planner(actor) -> None:
    scope = scope_for(actor)
    if not scope.has_role(Membership.Role.SUPERVISOR):
        raise PermissionDeniedError(_("Only supervisors plan and change rounds."))


def _inspector_in_scope(*, actor, inspector_id: int, municipality_id: int | None = None):
    """The inspector, if the actor may assign them (and they cover `municipality_id` when given).

    Unknown and out-of-scope inspectors get the same answer, so the API never confirms that a user
    of another municipality exists.
    """
    actor_scope = scope_for(actor)
    inspector = (
        User.objects.filter(pk=inspector_id, is_active=True, membership__role=Membership.Role.INSPECTOR)
        .select_related("membership")
        .first()
    )
    if inspector is not None:
        inspector_scope = scope_for(inspector)
        visible = actor_scope.everything or bool(actor_scope.municipality_ids & inspector_scope.municipality_ids)
        covers = municipality_id is None or inspector_scope.covers(municipality_id)
        if visible and covers:
            return inspector
        if visible and not covers:
            raise ApplicationError(
                _("The inspector does not work in the municipality of this round."), code="inspector_out_of_area"
            )
    raise ApplicationError(
        _("Unknown inspector."), code="unknown_inspector", extra={"errors": [{"loc": ["inspector_id"]}]}
    )


def _establishments_in_scope(*, actor, establishment_ids: list[int]) -> list[Establishment]:
    """The establishments in the given order; all must exist, be in scope and share one municipality."""
    if len(set(establishment_ids)) != len(establishment_ids):
        raise ApplicationError(_("An establishment appears twice in the round."), code="duplicate_establishment")
    scope = scope_for(actor)
    found = Establishment.objects.filter(pk__in=establishment_ids)
    if not scope.everything:
        found = found.filter(municipality_id__in=scope.municipality_ids)
    by_id = {establishment.pk: establishment for establishment in found}
    missing = [pk for pk in establishment_ids if pk not in by_id]
    if missing:
        raise ApplicationError(
            _("Unknown establishments: %(ids)s.") % {"ids": ", ".join(map(str, missing))},
            code="unknown_establishments",
            extra={"errors": [{"loc": ["establishment_ids"], "ids": missing}]},
        )
    establishments = [by_id[pk] for pk in establishment_ids]
    closed = [e.pk for e in establishments if e.status == Establishment.Status.CLOSED]
    if closed:
        raise ApplicationError(
            _("Closed establishments cannot be visited: %(ids)s.") % {"ids": ", ".join(map(str, closed))},
            code="establishment_closed",
        )
    return establishments


def _published_version(checklist: Checklist) -> ChecklistVersion | None:
    return checklist.versions.filter(status=ChecklistVersion.Status.PUBLISHED).first()


def _active_stops(round: Round) -> list[RoundStop]:
    return list(
        round.stops.filter(status__in=ACTIVE_STOP_STATUSES).select_related("establishment").order_by("position", "id")
    )


def _renumber(round: Round, ordered: list[RoundStop]) -> None:
    """Positions 1..n for the active stops in `ordered`, cancelled stops after them."""
    now = timezone.now()
    cancelled = list(round.stops.filter(status=RoundStop.Status.CANCELLED).order_by("position", "id"))
    for position, stop in enumerate([*ordered, *cancelled], start=1):
        stop.position = position
        stop.updated_at = now
    RoundStop.objects.bulk_update([*ordered, *cancelled], ["position", "updated_at"])


def _points(stops: list[RoundStop]) -> list[tuple[float, float]]:
    return [(stop.establishment.lat, stop.establishment.lon) for stop in stops]


def _optimize(stops: list[RoundStop]) -> list[RoundStop]:
    """Visited and missed stops keep their place in front; the pending ones are re-ordered."""
    done = [stop for stop in stops if stop.status != RoundStop.Status.PENDING]
    pending = [stop for stop in stops if stop.status == RoundStop.Status.PENDING]
    route = route_optimize(_points(pending))
    return [*done, *[pending[index] for index in route.order]]


def _lock_round(round_id: int) -> Round:
    # The round row only: FOR UPDATE on the joined municipality would block every insert that references
    # it (their foreign-key KEY SHARE locks) until this command commits, and meet the sync in a deadlock.
    return Round.objects.select_for_update(of=("self",)).select_related("inspector", "municipality").get(pk=round_id)


def _require_checklist_applies(*, checklist: Checklist, establishments: list[Establishment]) -> None:
    """A checklist that lists categories applies only to establishments of those categories: a stop
    it does not apply to could never be visited (visit sync refuses it as checklist_not_applicable)."""
    category_ids = set(checklist.categories.values_list("id", flat=True))
    if not category_ids:
        return
    unfit = [establishment.pk for establishment in establishments if establishment.category_id not in category_ids]
    if unfit:
        raise ApplicationError(
            _("The checklist does not apply to these establishments' categories: %(ids)s.")
            % {"ids": ", ".join(map(str, unfit))},
            code="checklist_not_applicable",
            extra={"errors": [{"loc": ["establishment_ids"], "ids": unfit}]},
        )


def round_metres(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.1f}")
