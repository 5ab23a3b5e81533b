"""Planning commands on rounds: a supervisor creates a round, changes it (reassign, reorder, add or
remove stops, re-optimise, notes) or cancels it.

Every change bumps `Round.updated_at` (the phone's delta-sync cursor, see selectors/rounds.py),
writes an AuditEvent and writes the notification outbox rows in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date as Date
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError
from inspections.alerts.policy import notify_round_assigned, notify_round_cancelled, notify_round_changed
from inspections.domain.calendar import riyadh_today
from inspections.domain.routing import cheapest_insertion, route_length, route_optimize
from inspections.models import Checklist, Round, RoundStop
from inspections.services.audit import audit_record
from inspections.services.rounds.common import (
    MAX_DAYS_AHEAD,
    MAX_STOPS,
    OPEN_STATUSES,
    _active_stops,
    _establishments_in_scope,
    _inspector_in_scope,
    _lock_round,
    _optimize,
    _points,
    _published_version,
    _renumber,
    _require_checklist_applies,
    _require_planner,
    round_metres,
)
from inspections.services.rounds.status import _refresh_status_locked


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
