"""Rounds: planning (create, reassign, reorder, add/remove stops, cancel), status that follows the
visits, the end-of-day close and follow-up scheduling.

Every change bumps `Round.updated_at` (the phone's delta-sync cursor, see selectors/rounds.py),
writes an AuditEvent and writes the notification outbox rows in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError, PermissionDeniedError
from inspections.alerts.policy import (
    alerts_stops_open,
    notify_round_assigned,
    notify_round_cancelled,
    notify_round_changed,
)
from inspections.models import (
    AuditEvent,
    Checklist,
    ChecklistVersion,
    Establishment,
    Membership,
    Municipality,
    Round,
    RoundStop,
    Visit,
)
from inspections.selectors.scope import scope_for
from inspections.services.audit import audit_record
from inspections.services.routing import cheapest_insertion, route_length, route_optimize

User = get_user_model()
RIYADH = ZoneInfo("Asia/Riyadh")
MAX_STOPS = 60
# A follow-up joins a planned round only while that round has fewer active stops than this (a day's work);
# past it a new round is started. This also bounds the cost of each insertion (renumbering, tour length).
FOLLOW_UP_ROUND_MAX_STOPS = 25
MAX_DAYS_AHEAD = 366
# Python's weekday(): Monday=0 .. Sunday=6. The Saudi working week is Sunday to Thursday.
WEEKEND = {4, 5}  # Friday, Saturday
OPEN_STATUSES = (Round.Status.PLANNED, Round.Status.IN_PROGRESS)
ACTIVE_STOP_STATUSES = (RoundStop.Status.PENDING, RoundStop.Status.VISITED, RoundStop.Status.MISSED)


def riyadh_today() -> Date:
    return timezone.localdate(timezone=RIYADH)


def next_working_day(day: Date) -> Date:
    """The first Sunday-to-Thursday day strictly after `day`."""
    candidate = day + timedelta(days=1)
    while candidate.weekday() in WEEKEND:
        candidate += timedelta(days=1)
    return candidate


# --- helpers -----------------------------------------------------------------------------------


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
    return Round.objects.select_for_update().select_related("inspector", "municipality").get(pk=round_id)


# --- create ------------------------------------------------------------------------------------


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


@transaction.atomic
def round_create(
    *,
    actor,
    inspector_id: int,
    date: Date,
    checklist_id: int,
    establishment_ids: list[int],
    optimize_route: bool = True,
    notes: str = "",
) -> Round:
    """Plan a round: a supervisor assigns an inspector ordered stops on a day.

    The inspector and every establishment must be in the supervisor's scope, the establishments
    in one municipality that the inspector covers, and the checklist must have a published version.
    With `optimize_route` the stops are ordered by a short tour (nearest neighbour + 2-opt).
    """
    _require_planner(actor)
    if not establishment_ids:
        raise ApplicationError(_("A round needs at least one establishment."), code="no_stops")
    if len(establishment_ids) > MAX_STOPS:
        raise ApplicationError(_("A round has at most %(max)d stops.") % {"max": MAX_STOPS}, code="too_many_stops")
    today = riyadh_today()
    if date < today:
        raise ApplicationError(_("A round cannot be planned in the past."), code="date_in_past")
    if date > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ApplicationError(_("A round can be planned at most a year ahead."), code="date_too_far")
    establishments = _establishments_in_scope(actor=actor, establishment_ids=establishment_ids)
    municipality_ids = {establishment.municipality_id for establishment in establishments}
    if len(municipality_ids) != 1:
        raise ApplicationError(_("All stops of a round must be in one municipality."), code="mixed_municipalities")
    municipality_id = municipality_ids.pop()
    inspector = _inspector_in_scope(actor=actor, inspector_id=inspector_id, municipality_id=municipality_id)
    checklist = Checklist.objects.filter(pk=checklist_id, is_active=True).first()
    if checklist is None:
        raise ApplicationError(_("Unknown checklist."), code="unknown_checklist")
    if _published_version(checklist) is None:
        raise ApplicationError(_("The checklist has no published version."), code="checklist_not_published")
    _require_checklist_applies(checklist=checklist, establishments=establishments)

    points = [(establishment.lat, establishment.lon) for establishment in establishments]
    if optimize_route:
        route = route_optimize(points)
        establishments = [establishments[index] for index in route.order]
        tour_length_m = route.length_m
    else:
        tour_length_m = route_length(points)

    round = Round.objects.create(
        date=date,
        municipality_id=municipality_id,
        inspector=inspector,
        checklist=checklist,
        route_optimized=bool(optimize_route),
        tour_length_m=round_metres(tour_length_m),
        notes=notes,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    RoundStop.objects.bulk_create(
        [
            RoundStop(round=round, establishment=establishment, position=position)
            for position, establishment in enumerate(establishments, start=1)
        ]
    )
    audit_record(
        actor=actor,
        action="round.created",
        target=round,
        municipality_id=municipality_id,
        details={
            "inspector_id": inspector.pk,
            "date": date.isoformat(),
            "checklist_id": checklist.pk,
            "establishment_ids": [establishment.pk for establishment in establishments],
            "optimize_route": bool(optimize_route),
            "tour_length_m": round.tour_length_m,
        },
    )
    notify_round_assigned(round=round)
    return round


def round_metres(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.1f}")


# --- update ------------------------------------------------------------------------------------


@dataclass
class RoundChange:
    """What a PATCH asks for. `None` / empty means "leave as is"."""

    inspector_id: int | None = None
    stop_ids: list[int] | None = None  # a permutation of the round's current (non-cancelled) stops
    add_establishment_ids: list[int] = field(default_factory=list)
    remove_stop_ids: list[int] = field(default_factory=list)
    optimize_route: bool = False
    cancel: bool = False
    notes: str | None = None

    def is_empty(self) -> bool:
        return (
            self.inspector_id is None
            and self.stop_ids is None
            and not self.add_establishment_ids
            and not self.remove_stop_ids
            and not self.optimize_route
            and not self.cancel
            and self.notes is None
        )


@transaction.atomic
def round_update(*, actor, round_id: int, change: RoundChange) -> Round:
    """Change a planned or in-progress round: reassign, reorder, add or remove stops, re-optimise, cancel.

    Each kind of change is one AuditEvent; the inspector(s) get one notification for the request.
    Cancelling cannot be combined with other changes; a reorder (`stop_ids`) cannot be combined with
    adding or removing stops or re-optimising (the client does not know the new stops' ids).
    """
    _require_planner(actor)
    if change.is_empty():
        raise ApplicationError(_("Nothing to change."), code="nothing_to_change")
    round = _lock_round(round_id)
    if round.status not in OPEN_STATUSES:
        raise ApplicationError(
            _("A round that is %(status)s cannot be changed.") % {"status": round.get_status_display()},
            code="round_closed",
        )
    if change.cancel:
        if (
            change.inspector_id is not None
            or change.stop_ids is not None
            or change.add_establishment_ids
            or change.remove_stop_ids
            or change.optimize_route
        ):
            raise ApplicationError(_("Cancel a round on its own, without other changes."), code="cancel_alone")
        return _round_cancel(actor=actor, round=round, notes=change.notes)
    if change.stop_ids is not None and (
        change.add_establishment_ids or change.remove_stop_ids or change.optimize_route
    ):
        raise ApplicationError(
            _("Reorder the stops on their own, without adding, removing or optimising."), code="reorder_alone"
        )

    changes: dict = {}
    previous_inspector = None

    if change.inspector_id is not None and change.inspector_id != round.inspector_id:
        new_inspector = _inspector_in_scope(
            actor=actor, inspector_id=change.inspector_id, municipality_id=round.municipality_id
        )
        previous_inspector = round.inspector
        round.inspector = new_inspector
        changes["inspector"] = {"from": previous_inspector.pk, "to": new_inspector.pk}
        audit_record(
            actor=actor,
            action="round.reassigned",
            target=round,
            municipality_id=round.municipality_id,
            details={"from_inspector_id": previous_inspector.pk, "to_inspector_id": new_inspector.pk},
        )

    stops = _active_stops(round)
    route_touched = False

    if change.remove_stop_ids:
        by_id = {stop.pk: stop for stop in stops}
        if len(set(change.remove_stop_ids)) != len(change.remove_stop_ids):
            raise ApplicationError(_("A stop is listed twice."), code="duplicate_stop")
        unknown = [pk for pk in change.remove_stop_ids if pk not in by_id]
        if unknown:
            raise ApplicationError(
                _("These stops are not in the round: %(ids)s.") % {"ids": ", ".join(map(str, unknown))},
                code="unknown_stops",
                extra={"errors": [{"loc": ["remove_stop_ids"], "ids": unknown}]},
            )
        not_pending = [pk for pk in change.remove_stop_ids if by_id[pk].status != RoundStop.Status.PENDING]
        if not_pending:
            raise ApplicationError(
                _("Only pending stops can be removed: %(ids)s.") % {"ids": ", ".join(map(str, not_pending))},
                code="stop_not_pending",
            )
        removed = [by_id[pk] for pk in change.remove_stop_ids]
        now = timezone.now()
        RoundStop.objects.filter(pk__in=change.remove_stop_ids).update(
            status=RoundStop.Status.CANCELLED, updated_at=now
        )
        stops = [stop for stop in stops if stop.pk not in set(change.remove_stop_ids)]
        changes["stops_removed"] = [stop.establishment_id for stop in removed]
        audit_record(
            actor=actor,
            action="round.stops_removed",
            target=round,
            municipality_id=round.municipality_id,
            details={"stop_ids": change.remove_stop_ids, "establishment_ids": changes["stops_removed"]},
        )
        route_touched = True

    if change.add_establishment_ids:
        if len(stops) + len(change.add_establishment_ids) > MAX_STOPS:
            raise ApplicationError(_("A round has at most %(max)d stops.") % {"max": MAX_STOPS}, code="too_many_stops")
        establishments = _establishments_in_scope(actor=actor, establishment_ids=change.add_establishment_ids)
        elsewhere = [e.pk for e in establishments if e.municipality_id != round.municipality_id]
        if elsewhere:
            raise ApplicationError(_("All stops of a round must be in one municipality."), code="mixed_municipalities")
        _require_checklist_applies(checklist=round.checklist, establishments=establishments)
        present = {stop.establishment_id for stop in stops}
        already = [e.pk for e in establishments if e.pk in present]
        if already:
            raise ApplicationError(
                _("Already stops of this round: %(ids)s.") % {"ids": ", ".join(map(str, already))},
                code="duplicate_establishment",
            )
        for establishment in establishments:
            new_stop = RoundStop.objects.create(round=round, establishment=establishment, position=len(stops) + 1)
            new_stop.establishment = establishment
            # Without re-optimisation a new stop goes where it lengthens the path least.
            at = cheapest_insertion(_points(stops), (establishment.lat, establishment.lon))
            stops.insert(at, new_stop)
        changes["stops_added"] = [e.pk for e in establishments]
        audit_record(
            actor=actor,
            action="round.stops_added",
            target=round,
            municipality_id=round.municipality_id,
            details={"establishment_ids": changes["stops_added"]},
        )
        route_touched = True

    if change.stop_ids is not None:
        current = {stop.pk: stop for stop in stops}
        if len(change.stop_ids) != len(current) or set(change.stop_ids) != set(current):
            raise ApplicationError(
                _("stop_ids must list every current stop of the round exactly once."),
                code="not_a_permutation",
                extra={"errors": [{"loc": ["stop_ids"], "expected": sorted(current)}]},
            )
        stops = [current[pk] for pk in change.stop_ids]
        round.route_optimized = False
        changes["reordered"] = list(change.stop_ids)
        audit_record(
            actor=actor,
            action="round.reordered",
            target=round,
            municipality_id=round.municipality_id,
            details={"stop_ids": list(change.stop_ids)},
        )
        route_touched = True

    if change.optimize_route:
        stops = _optimize(stops)
        round.route_optimized = True
        changes["optimized"] = True
        audit_record(
            actor=actor,
            action="round.optimized",
            target=round,
            municipality_id=round.municipality_id,
            details={"stop_ids": [stop.pk for stop in stops]},
        )
        route_touched = True

    if change.notes is not None and change.notes != round.notes:
        round.notes = change.notes
        changes["notes"] = True
        audit_record(actor=actor, action="round.notes_changed", target=round, municipality_id=round.municipality_id)

    if route_touched:
        _renumber(round, stops)
        round.tour_length_m = round_metres(route_length(_points(stops)))
        if change.add_establishment_ids and not change.optimize_route:
            round.route_optimized = False
    if not changes:
        raise ApplicationError(_("Nothing to change."), code="nothing_to_change")
    round.save()
    if route_touched:
        _refresh_status_locked(round)
    if not round.is_draft:  # a drafted week's inspectors hear of it once, when it is published
        notify_round_changed(round=round, previous_inspector=previous_inspector, changes=changes)
    return round


def _round_cancel(*, actor, round: Round, notes: str | None) -> Round:
    now = timezone.now()
    round.stops.filter(status=RoundStop.Status.PENDING).update(status=RoundStop.Status.CANCELLED, updated_at=now)
    round.status = Round.Status.CANCELLED
    round.cancelled_at = now
    if notes is not None:
        round.notes = notes
    round.save()
    audit_record(actor=actor, action="round.cancelled", target=round, municipality_id=round.municipality_id)
    if not round.is_draft:
        notify_round_cancelled(round=round)
    return round


# --- status that follows the visits -----------------------------------------------------------


def _status_from_stops(counts: dict[str, int]) -> str:
    """planned (nothing happened yet), in_progress (some stops done, some pending), done (every stop
    visited), partly_done (nothing pending but some missed). Cancelled stops do not count."""
    pending = counts.get(RoundStop.Status.PENDING, 0)
    visited = counts.get(RoundStop.Status.VISITED, 0)
    missed = counts.get(RoundStop.Status.MISSED, 0)
    if pending == 0:
        return Round.Status.DONE if missed == 0 else Round.Status.PARTLY_DONE
    if visited or missed:
        return Round.Status.IN_PROGRESS
    return Round.Status.PLANNED


def _refresh_status_locked(round: Round) -> None:
    """Mark pending stops that have a visit as visited, then derive the round's status."""
    now = timezone.now()
    round.stops.filter(status=RoundStop.Status.PENDING, visits__isnull=False).update(
        status=RoundStop.Status.VISITED, updated_at=now
    )
    counts = dict(
        round.stops.exclude(status=RoundStop.Status.CANCELLED)
        .values_list("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
    )
    if not counts:
        return  # a round whose every stop was removed stays as it is until cancelled or closed
    status = _status_from_stops(counts)
    if status != round.status:
        previous = round.status
        round.status = status
        Round.objects.filter(pk=round.pk).update(status=status, updated_at=now)
        audit_record(
            actor=None,
            action="round.status_changed",
            target=round,
            municipality_id=round.municipality_id,
            details={"from": previous, "to": status},
        )
    else:
        Round.objects.filter(pk=round.pk).update(updated_at=now)


@transaction.atomic
def round_refresh_status(*, round_id: int) -> None:
    """Re-derive a round's status from its stops (after a visit marked a stop visited).

    planned → in_progress at the first visited stop → done when no stop is pending. Stops with a
    visit are marked visited here too, so the call is safe to repeat. Always bumps `updated_at`
    so the phone's delta sync sees the visited stop. A cancelled or closed round is left alone.
    """
    round = Round.objects.select_for_update().filter(pk=round_id).first()
    if round is None or round.status not in OPEN_STATUSES:
        return
    _refresh_status_locked(round)


@transaction.atomic
def rounds_day_close(*, day: Date) -> int:
    """The end-of-day job: close the rounds of `day` and earlier (rounds_close_day), then tell the
    supervisors of each round of `day` that ended with stops not visited. Returns the alerts written."""
    rounds_close_day(day=day)
    return alerts_stops_open(day=day)


@transaction.atomic
def rounds_close_day(*, day: Date) -> list[Round]:
    """End of day (Asia/Riyadh): the pending stops of open rounds dated `day` or earlier become missed;
    those rounds become done (every stop visited) or partly done. Returns the rounds closed.

    Idempotent: a second run finds no open round and returns [].
    """
    rounds = list(
        Round.objects.select_for_update()
        .filter(date__lte=day, status__in=OPEN_STATUSES, is_draft=False)
        .order_by("date", "id")
    )
    closed = []
    now = timezone.now()
    for round in rounds:
        round.stops.filter(status=RoundStop.Status.PENDING, visits__isnull=False).update(
            status=RoundStop.Status.VISITED, updated_at=now
        )
        missed = round.stops.filter(status=RoundStop.Status.PENDING).update(
            status=RoundStop.Status.MISSED, updated_at=now
        )
        counts = dict(
            round.stops.exclude(status=RoundStop.Status.CANCELLED)
            .values_list("status")
            .annotate(count=Count("id"))
            .values_list("status", "count")
        )
        previous = round.status
        round.status = _status_from_stops(counts) if counts else Round.Status.DONE
        round.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=None,
            action="round.closed",
            target=round,
            municipality_id=round.municipality_id,
            details={"from": previous, "to": round.status, "missed_stops": missed, "day": day.isoformat()},
        )
        closed.append(round)
    return closed


# --- follow-ups ---------------------------------------------------------------------------------


def _follow_up_checklists(establishments: list[Establishment]) -> dict[int, int | None]:
    """{establishment id: checklist id} for the follow-ups: the checklist of the establishment's latest
    visit (the follow-up re-checks the same items), else a published checklist for its category, else
    any published checklist. One query for the latest visits; the fallbacks only for never-visited ones."""
    latest = Visit.objects.filter(establishment_id=OuterRef("pk")).order_by("-finished_at", "-id")
    found: dict[int, int | None] = dict(
        Establishment.objects.filter(pk__in=[e.pk for e in establishments])
        .annotate(checklist=Subquery(latest.values("checklist_version__checklist_id")[:1]))
        .values_list("pk", "checklist")
    )
    published = (
        Checklist.objects.filter(is_active=True, versions__status=ChecklistVersion.Status.PUBLISHED)
        .order_by("id")
        .values_list("id", flat=True)
    )
    by_category: dict[int | None, int | None] = {}
    for establishment in establishments:
        if found.get(establishment.pk) is not None:
            continue
        if establishment.category_id not in by_category:
            by_category[establishment.category_id] = (
                published.filter(categories=establishment.category_id).first() or published.first()
            )
        found[establishment.pk] = by_category[establishment.category_id]
    return found


def _inspector_loads(*, municipality: Municipality, day: Date) -> list[tuple[int, int]]:
    """(inspector id, stops on `day`) for the municipality's active inspectors, least loaded first."""
    covers = Q(membership__municipalities=municipality)
    if municipality.parent_id is not None:
        covers |= Q(membership__amanah_id=municipality.parent_id)
    return list(
        User.objects.filter(is_active=True, membership__role=Membership.Role.INSPECTOR)
        .filter(covers)
        .annotate(
            load=Count(
                "rounds__stops",
                filter=Q(rounds__date=day) & ~Q(rounds__status=Round.Status.CANCELLED),
                distinct=True,
            )
        )
        .order_by("load", "id")
        .values_list("id", "load")
    )


def _municipality_inspector(*, municipality: Municipality, day: Date):
    """The municipality's inspector with the fewest stops on `day` (ties: lowest id)."""
    loads = _inspector_loads(municipality=municipality, day=day)
    return User.objects.get(pk=loads[0][0]) if loads else None


@dataclass
class _FollowUpPlan:
    """A round that takes follow-up stops in this batch: an existing planned round, or a new one."""

    round: Round
    new: bool
    added: list[int] = field(default_factory=list)  # establishment ids, in scheduling order


@transaction.atomic
def follow_up_schedule(*, establishment: Establishment, due_date: Date, inspector=None) -> RoundStop | None:
    """Schedule a follow-up visit for one establishment: `follow_ups_schedule` for a batch of one."""
    return follow_ups_schedule(requests=[(establishment, due_date, inspector)]).get(establishment.pk)


@transaction.atomic
def follow_ups_schedule(*, requests: list[tuple[Establishment, Date, object]]) -> dict[int, RoundStop | None]:
    """Schedule follow-up visits for establishments with open findings, set-based (one sync batch).

    `requests` holds (establishment, due date, inspector or None); an establishment requested twice
    gets one stop, due by the earlier date. Returns {establishment id: stop or None}. The rules:

    - An establishment never has two pending follow-up stops: an existing one is returned.
    - Otherwise the stop joins a planned round of the establishment's municipality dated after today
      and on or before `due_date` (or on the next working day) with the checklist of the
      establishment's latest visit and room left (fewer than FOLLOW_UP_ROUND_MAX_STOPS active stops),
      preferring `inspector`'s round, else the earliest; it is inserted where it lengthens the path least.
    - Otherwise a new round is created on the next working day (Asia/Riyadh, Sunday–Thursday) for
      `inspector` if they cover the municipality, else for the municipality's least-loaded inspector;
      later establishments of the batch join it like any planned round.
    - None only when nobody can take it (no inspector in the municipality, or no published
      checklist): the finding then stays without a follow-up stop rather than losing the visit.

    Establishments are handled in id order, as separate calls would. Every touched round is renumbered
    and measured once, gets one audit event per added stop and ONE notification to its inspector
    ("round changed" listing the added establishments, or "new round"), in the caller's transaction.
    Locks: the establishments by id, then the candidate rounds by id (deterministic, so concurrent
    batches cannot deadlock).
    """
    wanted: dict[int, tuple[Date, object]] = {}
    for establishment, due_date, inspector in requests:
        if establishment.pk in wanted:
            earlier, first_inspector = wanted[establishment.pk]
            wanted[establishment.pk] = (min(earlier, due_date), first_inspector or inspector)
        else:
            wanted[establishment.pk] = (due_date, inspector)
    if not wanted:
        return {}
    ids = sorted(wanted)
    # Serialise follow-ups of one establishment (PostgreSQL row locks, in id order; SQLite serialises
    # writes anyway). Lock only the establishment rows, FOR NO KEY UPDATE: it must not conflict with the
    # KEY SHARE locks that concurrent visit syncs take through their foreign keys (visits, findings ->
    # establishment, municipality).
    establishments = {
        establishment.pk: establishment
        for establishment in Establishment.objects.select_for_update(no_key=True, of=("self",))
        .select_related("municipality")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    result: dict[int, RoundStop | None] = {pk: None for pk in ids}
    existing: dict[int, RoundStop] = {}
    for stop in (
        RoundStop.objects.filter(establishment_id__in=ids, is_follow_up=True, status=RoundStop.Status.PENDING)
        .exclude(round__status=Round.Status.CANCELLED)
        .select_related("round")
        .order_by("round_id", "position", "id")
    ):
        existing.setdefault(stop.establishment_id, stop)
    result.update(existing)
    todo = [pk for pk in ids if pk not in existing and pk in establishments]
    if not todo:
        return result

    today = riyadh_today()
    next_day = next_working_day(today)
    checklists = _follow_up_checklists([establishments[pk] for pk in todo])
    todo = [pk for pk in todo if checklists.get(pk) is not None]
    if not todo:
        return result

    # Candidate rounds of all the municipalities in one query (counted without a lock: PostgreSQL refuses
    # FOR UPDATE with GROUP BY), then locked in id order and counted again under the lock.
    latest_day = max(max(wanted[pk][0], next_day) for pk in todo)
    municipality_ids = {establishments[pk].municipality_id for pk in todo}
    candidate_ids = list(
        Round.objects.filter(
            municipality_id__in=municipality_ids,
            status=Round.Status.PLANNED,
            is_draft=False,
            date__gt=today,
            date__lte=latest_day,
            checklist_id__in={checklists[pk] for pk in todo},
        )
        .annotate(active_stops=Count("stops", filter=Q(stops__status__in=ACTIVE_STOP_STATUSES)))
        .filter(active_stops__lt=FOLLOW_UP_ROUND_MAX_STOPS)
        .values_list("pk", flat=True)
    )
    candidates: list[Round] = []
    room: dict[int, int] = {}
    pending_pairs: set[tuple[int, int]] = set()
    if candidate_ids:
        candidates = list(
            Round.objects.select_for_update(of=("self",))
            .select_related("inspector", "municipality")
            .filter(pk__in=candidate_ids, status=Round.Status.PLANNED)
            .order_by("pk")
        )
        locked_ids = [r.pk for r in candidates]
        counts = dict(
            RoundStop.objects.filter(round_id__in=locked_ids, status__in=ACTIVE_STOP_STATUSES)
            .values("round_id")
            .annotate(n=Count("id"))
            .values_list("round_id", "n")
        )
        room = {pk: counts.get(pk, 0) for pk in locked_ids}
        # A round that already visits the establishment (a pending ordinary stop) does not take its follow-up.
        pending_pairs = set(
            RoundStop.objects.filter(
                round_id__in=locked_ids, establishment_id__in=todo, status=RoundStop.Status.PENDING
            ).values_list("round_id", "establishment_id")
        )
    by_key: dict[tuple[int, int], list[_FollowUpPlan]] = {}
    for candidate in candidates:
        by_key.setdefault((candidate.municipality_id, candidate.checklist_id), []).append(
            _FollowUpPlan(round=candidate, new=False)
        )
    for options in by_key.values():
        options.sort(key=lambda plan: (plan.round.date, plan.round.pk))

    plans: list[_FollowUpPlan] = []
    extra_load: dict[int, int] = {}  # stops this batch adds on next_day, per inspector
    covers: dict[tuple[int, int], bool] = {}
    loads: dict[int, list[tuple[int, int]]] = {}
    users: dict[int, object] = {}
    for pk in todo:
        establishment = establishments[pk]
        due_date, inspector = wanted[pk]
        limit = max(due_date, next_day)
        options = [
            plan
            for plan in by_key.get((establishment.municipality_id, checklists[pk]), [])
            if plan.round.date <= limit
            and (room[id(plan)] if plan.new else room[plan.round.pk]) < FOLLOW_UP_ROUND_MAX_STOPS
            and (plan.round.pk, pk) not in pending_pairs
        ]
        target = None
        if inspector is not None:
            target = next((plan for plan in options if plan.round.inspector_id == inspector.pk), None)
        if target is None and options:
            target = options[0]
        if target is None:
            assignee = inspector
            if assignee is not None:
                key = (assignee.pk, establishment.municipality_id)
                if key not in covers:
                    covers[key] = scope_for(assignee).covers(establishment.municipality_id)
                if not covers[key]:
                    assignee = None
            if assignee is None:
                if establishment.municipality_id not in loads:
                    loads[establishment.municipality_id] = _inspector_loads(
                        municipality=establishment.municipality, day=next_day
                    )
                ranked = sorted(
                    (load + extra_load.get(user_id, 0), user_id)
                    for user_id, load in loads[establishment.municipality_id]
                )
                if not ranked:
                    continue
                user_id = ranked[0][1]
                if user_id not in users:
                    users[user_id] = User.objects.get(pk=user_id)
                assignee = users[user_id]
            target = _FollowUpPlan(
                round=Round(
                    date=next_day,
                    municipality=establishment.municipality,
                    inspector=assignee,
                    checklist_id=checklists[pk],
                    route_optimized=True,
                    tour_length_m=0.0,
                    notes="Follow-up",
                ),
                new=True,
            )
            room[id(target)] = 0
            options_of_key = by_key.setdefault((establishment.municipality_id, checklists[pk]), [])
            options_of_key.append(target)
            options_of_key.sort(key=lambda plan: (plan.round.date, plan.round.pk is None, plan.round.pk or 0))
        if not target.added:
            plans.append(target)
        target.added.append(pk)
        if target.new:
            room[id(target)] += 1
        else:
            room[target.round.pk] += 1
        if target.round.date == next_day:
            extra_load[target.round.inspector_id] = extra_load.get(target.round.inspector_id, 0) + 1
    if not plans:
        return result

    new_plans = [plan for plan in plans if plan.new]
    old_plans = [plan for plan in plans if not plan.new]
    if new_plans:
        Round.objects.bulk_create([plan.round for plan in new_plans])
    now = timezone.now()

    # The touched existing rounds' stops in one query each: active ones (for the insertion), cancelled ones
    # (they keep their place after the active ones).
    active: dict[int, list[RoundStop]] = defaultdict(list)
    cancelled: dict[int, list[RoundStop]] = defaultdict(list)
    if old_plans:
        for stop in (
            RoundStop.objects.filter(round_id__in=[plan.round.pk for plan in old_plans])
            .select_related("establishment")
            .order_by("round_id", "position", "id")
        ):
            (cancelled if stop.status == RoundStop.Status.CANCELLED else active)[stop.round_id].append(stop)

    new_stops: list[RoundStop] = []
    moved: list[RoundStop] = []
    for plan in plans:
        stops = active[plan.round.pk] if not plan.new else []
        old_positions = {stop.pk: stop.position for stop in stops}
        old_positions.update({stop.pk: stop.position for stop in cancelled.get(plan.round.pk, [])})
        added = []
        for pk in plan.added:
            establishment = establishments[pk]
            stop = RoundStop(round=plan.round, establishment=establishment, position=0, is_follow_up=True)
            at = cheapest_insertion(_points(stops), (establishment.lat, establishment.lon)) if stops else 0
            stops.insert(at, stop)
            added.append(stop)
        for position, stop in enumerate([*stops, *cancelled.get(plan.round.pk, [])], start=1):
            stop.position = position
            stop.updated_at = now
            if stop.pk is not None and old_positions.get(stop.pk) != position:
                moved.append(stop)
        new_stops.extend(added)
        plan.round.tour_length_m = round_metres(route_length(_points(stops))) if len(stops) > 1 else 0.0
        plan.round.updated_at = now
    RoundStop.objects.bulk_create(new_stops)
    if moved:
        RoundStop.objects.bulk_update(moved, ["position", "updated_at"])
    Round.objects.bulk_update([plan.round for plan in plans], ["tour_length_m", "updated_at"])
    for stop in new_stops:
        result[stop.establishment_id] = stop

    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                action="round.created",
                object_type=plan.round._meta.label_lower,
                object_id=str(plan.round.pk),
                municipality_id=plan.round.municipality_id,
                details={
                    "inspector_id": plan.round.inspector_id,
                    "date": plan.round.date.isoformat(),
                    "checklist_id": plan.round.checklist_id,
                    "establishment_ids": plan.added,
                    "follow_up": True,
                    "due_date": min(wanted[pk][0] for pk in plan.added).isoformat(),
                },
            )
            for plan in new_plans
        ]
        + [
            AuditEvent(
                action="round.follow_up_added",
                object_type=plan.round._meta.label_lower,
                object_id=str(plan.round.pk),
                municipality_id=plan.round.municipality_id,
                details={
                    "establishment_id": pk,
                    "stop_id": result[pk].pk,
                    "due_date": wanted[pk][0].isoformat(),
                },
            )
            for plan in old_plans
            for pk in plan.added
        ]
    )
    # One notification per touched round (not one per stop): the inspector hears once per batch.
    for plan in plans:
        if plan.new:
            notify_round_assigned(round=plan.round)
        else:
            notify_round_changed(round=plan.round, changes={"follow_up_added": plan.added})
    return result
