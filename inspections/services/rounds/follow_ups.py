"""Follow-up scheduling: a visit that leaves open findings gets a follow-up stop, placed in a planned
round of the establishment's municipality (where it lengthens the tour least) or in a new round on
the next working day. Set-based: one call per synced batch (see `follow_ups_schedule`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Min, OuterRef, Q, Subquery
from django.utils import timezone

from inspections.alerts.policy import notify_round_assigned, notify_round_changed
from inspections.domain.calendar import next_working_day, riyadh_today
from inspections.domain.routing import cheapest_insertion, route_length
from inspections.models import (
    Checklist,
    ChecklistVersion,
    Establishment,
    Finding,
    FollowUpPending,
    Membership,
    Municipality,
    Round,
    RoundStop,
    Visit,
)
from inspections.selectors.scope import scope_for
from inspections.services.audit import AuditEntry, audit_record_many
from inspections.services.rounds.common import ACTIVE_STOP_STATUSES, User, _points, round_metres
from inspections.services.sync_sql import insert_returning, update_rows

# A follow-up joins a planned round only while that round has fewer active stops than this (a day's work);
# past it a new round is started. This also bounds the cost of each insertion (renumbering, tour length).
FOLLOW_UP_ROUND_MAX_STOPS = 25


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

    audit_record_many(
        [
            AuditEntry(
                action="round.created",
                object_type=plan.round._meta.label_lower,
                object_id=plan.round.pk,
                municipality_id=plan.round.municipality_id,
                at=now,
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
            AuditEntry(
                action="round.follow_up_added",
                object_type=plan.round._meta.label_lower,
                object_id=plan.round.pk,
                municipality_id=plan.round.municipality_id,
                at=now,
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


# --- placement after the visit sync --------------------------------------------------------------

# The sweeper places what the on-commit task did not, once it is this old (the task normally runs
# within a second of the commit; the margin keeps the sweeper from racing it).
FOLLOW_UP_SWEEP_AFTER = timedelta(seconds=30)
FOLLOW_UP_PLACE_BATCH = 500


def follow_ups_backlog(*, now) -> tuple[int, float | None]:
    """(rows waiting for placement, age in seconds of the oldest): what `GET health` reports."""
    row = FollowUpPending.objects.aggregate(pending=Count("id"), oldest=Min("created_at"))
    oldest = row["oldest"]
    return row["pending"], None if oldest is None else max((now - oldest).total_seconds(), 0.0)


def follow_ups_request(*, requests: list[tuple[int, Date, int | None, list[int]]], now) -> list[int]:
    """Record follow-ups to place, in the caller's transaction (the visit sync): one row per
    (establishment id, due date, inspector id, visit ids), one INSERT. Returns the rows' ids, for the
    task the caller queues on commit (`follow_ups_place_pending`)."""
    rows = insert_returning(
        FollowUpPending,
        ["establishment_id", "due_date", "inspector_id", "visit_ids", "created_at"],
        [
            (establishment_id, due, inspector_id, visit_ids, now)
            for establishment_id, due, inspector_id, visit_ids in requests
        ],
    )
    return [row[0] for row in rows]


@transaction.atomic
def follow_ups_place_pending(*, ids: list[int] | None = None, older_than: timedelta | None = None) -> int:
    """Place waiting follow-ups (`FollowUpPending`) with the one scheduler, `follow_ups_schedule`, and
    point their visits' findings to the stop. `ids`: these rows (the task queued on commit);
    otherwise every row older than `older_than` (the sweeper). Returns the rows placed.

    Idempotent and safe to run concurrently: rows are claimed FOR UPDATE SKIP LOCKED and deleted
    when placed, so a row is placed once; a row whose establishment nobody can take (no inspector,
    no published checklist) is dropped, as the synchronous scheduler left such findings without a stop.
    """
    pending = FollowUpPending.objects.select_for_update(skip_locked=True).order_by("id")
    if ids is not None:
        pending = pending.filter(pk__in=ids)
    if older_than is not None:
        pending = pending.filter(created_at__lte=timezone.now() - older_than)
    rows = list(pending[:FOLLOW_UP_PLACE_BATCH])
    if not rows:
        return 0
    establishments = Establishment.objects.in_bulk({row.establishment_id for row in rows})
    inspectors = User.objects.in_bulk({row.inspector_id for row in rows if row.inspector_id})
    scheduled = follow_ups_schedule(
        requests=[
            (establishments[row.establishment_id], row.due_date, inspectors.get(row.inspector_id))
            for row in rows
            if row.establishment_id in establishments
        ]
    )
    _findings_point_to_stops(rows, scheduled)
    FollowUpPending.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


def _findings_point_to_stops(rows: list[FollowUpPending], scheduled: dict[int, RoundStop | None]) -> None:
    """Point the findings the rows' visits opened and left open in their batch (one closed by a later
    visit of the same batch never had a follow-up) to their establishment's stop: one read, one update
    for the whole batch of rows, not one UPDATE per row."""
    wanted: dict[int, tuple[int, int, frozenset[int]]] = {}  # visit id -> (establishment id, stop id, batch)
    for row in rows:
        stop = scheduled.get(row.establishment_id)
        if stop is not None and row.visit_ids:
            batch = frozenset(row.visit_ids)
            for visit_id in row.visit_ids:
                wanted.setdefault(visit_id, (row.establishment_id, stop.pk, batch))
    if not wanted:
        return
    updates = []
    for finding_id, visit_id, establishment_id, closed_by in Finding.objects.filter(
        visit_id__in=wanted, follow_up_stop__isnull=True
    ).values_list("id", "visit_id", "establishment_id", "closed_by_visit_id"):
        expected_establishment, stop_id, batch = wanted[visit_id]
        if establishment_id == expected_establishment and closed_by not in batch:
            updates.append((finding_id, stop_id))
    update_rows(Finding, ["follow_up_stop_id"], updates)
