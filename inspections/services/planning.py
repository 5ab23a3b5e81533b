"""Planning the week: a draft plan of rounds for a municipality (Sunday to Thursday, Asia/Riyadh),
reviewed, edited and published by a supervisor; recurring visits; the municipality's settings.

What is due: every active establishment whose next inspection (last inspection + the frequency of
its risk class; a new licence within `new_licence_days`) falls on or before the week's last day,
every establishment with an open finding due by then (a follow-up), and the recurring visits of the
week, minus what already has a pending stop. The most urgent fit the inspectors' free capacity
(daily capacity minus stops they already have), cut into compact groups (inspections.domain.planning),
one per inspector and day, each routed (inspections.domain.routing).

Drafted rounds carry `is_draft`: phones do not see them (selectors/rounds.py), nobody is notified,
and the end-of-day close and follow-up scheduling leave them alone, until `plan_publish`.

Over 500 lines because drafting, editing and publishing a week share one locking order and one set
of "what is due" queries; the pure parts (grouping, capacity) already live in inspections.domain.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date as Date
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError, PermissionDeniedError
from inspections.alerts.policy import notify_round_assigned, notify_round_changed
from inspections.domain.calendar import next_working_day, riyadh_today
from inspections.domain.planning import Candidate, Slot, allocate
from inspections.domain.routing import cheapest_insertion, route_length, route_optimize
from inspections.models import (
    Checklist,
    ChecklistVersion,
    Establishment,
    Membership,
    Municipality,
    PlanSettings,
    RecurringVisit,
    Round,
    RoundStop,
    WeekPlan,
)
from inspections.selectors.risk import establishments_risk
from inspections.selectors.scope import scope_for
from inspections.services.audit import audit_record
from inspections.services.rounds.common import (
    ACTIVE_STOP_STATUSES,
    MAX_STOPS,
    OPEN_STATUSES,
    _active_stops,
    _inspector_in_scope,
    _lock_round,
    _points,
    _renumber,
    _require_checklist_applies,
    round_metres,
)
from inspections.services.rounds.follow_ups import _follow_up_checklists, _inspector_loads, follow_ups_schedule
from inspections.services.rounds.status import _refresh_status_locked

User = get_user_model()
WORK_DAYS = 5  # Sunday to Thursday
SUNDAY = 6  # date.weekday()
RECURRING_PRIORITY = 25.0
OVERDUE_PRIORITY = 50.0  # points for a year overdue
UNPLANNED_LISTED = 500


def week_days(week_start: Date) -> list[Date]:
    return [week_start + timedelta(days=offset) for offset in range(WORK_DAYS)]


def next_week_start(today: Date) -> Date:
    """The Sunday after `today` (a Sunday's next week is seven days on)."""
    return today + timedelta(days=(SUNDAY - today.weekday()) % 7 or 7)


def _require_planner_of(actor, municipality_id: int) -> None:
    scope = scope_for(actor)
    if actor is not None and not scope.has_role(Membership.Role.SUPERVISOR):
        raise PermissionDeniedError(_("Only supervisors plan and change rounds."))
    if actor is not None and not scope.covers(municipality_id):
        raise ApplicationError(_("Unknown municipality."), code="unknown_municipality", status=404)


def _municipality(municipality_id: int) -> Municipality:
    found = Municipality.objects.filter(pk=municipality_id, kind=Municipality.Kind.BALADIYA).first()
    if found is None:
        raise ApplicationError(_("Unknown municipality."), code="unknown_municipality", status=404)
    return found


# --- settings and recurring visits -------------------------------------------------------------

SETTING_FIELDS = (
    "high_every_months",
    "medium_every_months",
    "low_every_months",
    "new_licence_days",
    "high_threshold",
    "medium_threshold",
    "daily_capacity",
    "weekly_auto",
)


@transaction.atomic
def plan_settings_update(*, actor, municipality_id: int, **values) -> PlanSettings:
    """Change how the municipality's weeks are planned (supervisors of it, admins)."""
    _require_planner_of(actor, municipality_id)
    _municipality(municipality_id)
    settings, _created = PlanSettings.objects.select_for_update().get_or_create(municipality_id=municipality_id)
    for name, value in values.items():
        if name not in SETTING_FIELDS:
            raise ApplicationError(_("Unknown setting: %(name)s.") % {"name": name}, code="unknown_fields")
        setattr(settings, name, value)
    if settings.medium_threshold > settings.high_threshold:
        raise ApplicationError(
            _("The medium-risk threshold is above the high-risk one."), code="invalid_thresholds", status=422
        )
    settings.save()
    audit_record(
        actor=actor, action="plan.settings_changed", target=settings, municipality_id=municipality_id, details=values
    )
    return settings


@transaction.atomic
def recurring_visits_create(
    *, actor, municipality_id: int, establishment_ids: list[int], every_weeks: int, start_week: Date, inspector_id=None
) -> list[RecurringVisit]:
    """Visit these shops every `every_weeks` weeks from `start_week` (a Sunday); replaces their earlier rule."""
    _require_planner_of(actor, municipality_id)
    if start_week.weekday() != SUNDAY:
        raise ApplicationError(_("A week starts on a Sunday."), code="not_a_sunday", status=422)
    if len(set(establishment_ids)) != len(establishment_ids):
        raise ApplicationError(_("An establishment appears twice."), code="duplicate_establishment")
    found = set(
        Establishment.objects.filter(pk__in=establishment_ids, municipality_id=municipality_id).values_list(
            "pk", flat=True
        )
    )
    missing = [pk for pk in establishment_ids if pk not in found]
    if missing:
        raise ApplicationError(
            _("Unknown establishments: %(ids)s.") % {"ids": ", ".join(map(str, missing))},
            code="unknown_establishments",
        )
    inspector = None
    if inspector_id is not None:
        inspector = _inspector_in_scope(actor=actor, inspector_id=inspector_id, municipality_id=municipality_id)
    RecurringVisit.objects.filter(establishment_id__in=establishment_ids).delete()
    created = RecurringVisit.objects.bulk_create(
        [
            RecurringVisit(
                municipality_id=municipality_id,
                establishment_id=pk,
                every_weeks=every_weeks,
                start_week=start_week,
                inspector=inspector,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
            for pk in establishment_ids
        ]
    )
    for recurring in created:
        audit_record(
            actor=actor,
            action="plan.recurring_set",
            target=recurring,
            municipality_id=municipality_id,
            details={"establishment_id": recurring.establishment_id, "every_weeks": every_weeks},
        )
    return created


@transaction.atomic
def recurring_visit_delete(*, actor, recurring: RecurringVisit) -> None:
    _require_planner_of(actor, recurring.municipality_id)
    audit_record(
        actor=actor, action="plan.recurring_deleted", target=recurring, municipality_id=recurring.municipality_id
    )
    recurring.delete()


def recurring_due(*, municipality_id: int, week_start: Date) -> set[int]:
    due = set()
    for establishment_id, every, start in RecurringVisit.objects.filter(
        municipality_id=municipality_id, start_week__lte=week_start
    ).values_list("establishment_id", "every_weeks", "start_week"):
        if ((week_start - start).days // 7) % every == 0:
            due.add(establishment_id)
    return due


# --- drafting ------------------------------------------------------------------------------------


def _checklist_categories() -> dict[int, set[int] | None]:
    """Published, active checklists -> the categories they apply to (None: every category)."""
    result: dict[int, set[int] | None] = {}
    for checklist in Checklist.objects.filter(
        is_active=True, versions__status=ChecklistVersion.Status.PUBLISHED
    ).prefetch_related("categories"):
        categories = {category.pk for category in checklist.categories.all()}
        result[checklist.pk] = categories or None
    return result


def _split_by_checklist(group, *, checklist_of: dict[int, int], category_of: dict[int, int], applies) -> dict:
    """{checklist id: establishments}: one checklist for the whole group when one applies to every
    stop (the members' most common first), else each stop with its own."""
    counts = Counter(checklist_of[c.id] for c in group)
    for checklist_id, _count in counts.most_common():
        categories = applies.get(checklist_id)
        if categories is None or all(category_of[c.id] in categories for c in group):
            return {checklist_id: list(group)}
    split: dict[int, list] = defaultdict(list)
    for candidate in group:
        split[checklist_of[candidate.id]].append(candidate)
    return split


@transaction.atomic
def plan_week_draft(*, actor, municipality_id: int, week_start: Date | None = None) -> WeekPlan:
    """Write a draft plan of rounds for the municipality's working week (see the module docstring)."""
    _require_planner_of(actor, municipality_id)
    municipality = _municipality(municipality_id)
    today = riyadh_today()
    week_start = week_start or next_week_start(today)
    if week_start.weekday() != SUNDAY:
        raise ApplicationError(_("A week starts on a Sunday."), code="not_a_sunday", status=422)
    days = [day for day in week_days(week_start) if day > today]
    if not days:
        raise ApplicationError(_("This week is over."), code="date_in_past", status=422)
    if week_start > today + timedelta(days=366):
        raise ApplicationError(_("A week can be planned at most a year ahead."), code="date_too_far", status=422)
    try:
        with transaction.atomic():
            plan = WeekPlan.objects.create(
                municipality=municipality,
                week_start=week_start,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError as error:
        raise ApplicationError(
            _("This week already has a plan: publish or discard it first."), code="plan_exists", status=409
        ) from error

    from inspections.selectors.risk import plan_settings_for

    settings = plan_settings_for(municipality_id)
    week_end = days[-1]
    inspector_ids = [user_id for user_id, _load in _inspector_loads(municipality=municipality, day=days[0])]
    existing = Counter(
        (inspector_id, day)
        for inspector_id, day in RoundStop.objects.filter(
            round__inspector_id__in=inspector_ids,
            round__date__in=days,
            status__in=ACTIVE_STOP_STATUSES,
        )
        .exclude(round__status=Round.Status.CANCELLED)
        .values_list("round__inspector_id", "round__date")
    )
    slots = [
        Slot(inspector_id=i, day=day, capacity=max(settings.daily_capacity - existing[(i, day)], 0))
        for i in inspector_ids
        for day in days
    ]
    planned_already = set(
        RoundStop.objects.filter(
            round__municipality_id=municipality_id,
            round__date__gte=today,
            status=RoundStop.Status.PENDING,
        )
        .exclude(round__status=Round.Status.CANCELLED)
        .values_list("establishment_id", flat=True)
    )
    recurring = recurring_due(municipality_id=municipality_id, week_start=week_start)
    risks = establishments_risk(municipality_id=municipality_id, today=today)
    candidates: list[Candidate] = []
    by_id = {}
    for risk in risks:
        establishment = risk.establishment
        if establishment.pk in planned_already:
            continue
        follow_up = risk.follow_up_due is not None and risk.follow_up_due <= week_end
        due = risk.due_date <= week_end
        if not (follow_up or due or establishment.pk in recurring):
            continue
        priority = risk.assessment.score + min(risk.overdue_days(week_start), 365) / 365 * OVERDUE_PRIORITY
        if establishment.pk in recurring:
            priority += RECURRING_PRIORITY
        candidates.append(
            Candidate(
                id=establishment.pk,
                lat=establishment.lat,
                lon=establishment.lon,
                priority=priority,
                deadline=max(risk.follow_up_due, days[0]) if follow_up else None,
                follow_up=follow_up,
            )
        )
        by_id[establishment.pk] = establishment
    checklist_of = {
        pk: checklist_id
        for pk, checklist_id in _follow_up_checklists([by_id[c.id] for c in candidates]).items()
        if checklist_id is not None
    }
    fit = [c for c in candidates if c.id in checklist_of]
    allocation = allocate(fit, slots)
    applies = _checklist_categories()
    category_of = {pk: establishment.category_id for pk, establishment in by_id.items()}

    rounds: list[Round] = []
    stops_of: list[list[Establishment]] = []
    on_time = 0
    for (inspector_id, day), group in sorted(allocation.groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        on_time += sum(1 for c in group if c.follow_up and c.deadline is not None and day <= c.deadline)
        for checklist_id, members in _split_by_checklist(
            group, checklist_of=checklist_of, category_of=category_of, applies=applies
        ).items():
            points = [(c.lat, c.lon) for c in members]
            route = route_optimize(points)
            rounds.append(
                Round(
                    date=day,
                    municipality=municipality,
                    inspector_id=inspector_id,
                    checklist_id=checklist_id,
                    route_optimized=True,
                    tour_length_m=round_metres(route.length_m),
                    created_by=actor if getattr(actor, "pk", None) else None,
                    plan=plan,
                    is_draft=True,
                )
            )
            stops_of.append([by_id[members[index].id] for index in route.order])
    Round.objects.bulk_create(rounds)
    stops = []
    for round, establishments in zip(rounds, stops_of, strict=True):
        for position, establishment in enumerate(establishments, start=1):
            stops.append(RoundStop(round=round, establishment=establishment, position=position))
    RoundStop.objects.bulk_create(stops)

    planned_ids = {c.id for group in allocation.groups.values() for c in group}
    follow_ups = [c for c in candidates if c.follow_up]
    plan.summary = {
        "due": len(candidates),
        "planned": len(planned_ids),
        "follow_ups": len(follow_ups),
        "follow_ups_on_time": on_time,
        "capacity": sum(slot.capacity for slot in slots),
        "inspectors": len(inspector_ids),
        "days": [day.isoformat() for day in days],
        "no_checklist_ids": sorted(c.id for c in candidates if c.id not in checklist_of)[:UNPLANNED_LISTED],
        "unplanned_ids": [c.id for c in allocation.unplanned][:UNPLANNED_LISTED],
        "unplanned": len(allocation.unplanned) + len(candidates) - len(fit),
        "tour_length_m": round_metres(sum(round.tour_length_m or 0 for round in rounds)),
    }
    plan.save(update_fields=["summary"])
    audit_record(
        actor=actor,
        action="plan.drafted",
        target=plan,
        municipality_id=municipality_id,
        details={key: plan.summary[key] for key in ("due", "planned", "follow_ups", "capacity")},
    )
    return plan


def _lock_plan(*, actor, plan_id: int) -> WeekPlan:
    plan = WeekPlan.objects.select_for_update().filter(pk=plan_id).first()
    if plan is None or (actor is not None and not scope_for(actor).covers(plan.municipality_id)):
        raise ApplicationError(_("Not found."), code="not_found", status=404)
    _require_planner_of(actor, plan.municipality_id)
    if plan.status != WeekPlan.Status.DRAFT:
        raise ApplicationError(
            _("This plan is %(status)s and can no longer change.") % {"status": plan.get_status_display()},
            code="plan_not_draft",
            status=409,
        )
    return plan


@transaction.atomic
def plan_publish(*, actor, plan_id: int) -> WeekPlan:
    """Publish a draft: its rounds reach the phones (next delta sync) and each inspector is told once
    per round. Rounds left without stops by the supervisor's edits are dropped."""
    plan = _lock_plan(actor=actor, plan_id=plan_id)
    now = timezone.now()
    # Locked first, counted after: PostgreSQL refuses FOR UPDATE together with GROUP BY.
    rounds = list(
        plan.rounds.select_for_update(of=("self",))
        .filter(is_draft=True)
        .select_related("inspector", "municipality")
        .order_by("pk")
    )
    active = dict(
        RoundStop.objects.filter(round_id__in=[round.pk for round in rounds], status__in=ACTIVE_STOP_STATUSES)
        .values("round_id")
        .annotate(n=Count("id"))
        .values_list("round_id", "n")
    )
    for round in rounds:
        round.active = active.get(round.pk, 0)
    empty = [round.pk for round in rounds if round.active == 0]
    if empty:
        RoundStop.objects.filter(round_id__in=empty).delete()
        Round.objects.filter(pk__in=empty).delete()
    live = [round for round in rounds if round.active > 0]
    Round.objects.filter(pk__in=[round.pk for round in live]).update(is_draft=False, updated_at=now)
    plan.status = WeekPlan.Status.PUBLISHED
    plan.published_at = now
    plan.save(update_fields=["status", "published_at"])
    for round in live:
        round.is_draft = False
        audit_record(
            actor=actor,
            action="round.created",
            target=round,
            municipality_id=round.municipality_id,
            details={"inspector_id": round.inspector_id, "date": round.date.isoformat(), "plan_id": plan.pk},
        )
        notify_round_assigned(round=round)
    audit_record(
        actor=actor,
        action="plan.published",
        target=plan,
        municipality_id=plan.municipality_id,
        details={"round_ids": [round.pk for round in live]},
    )
    return plan


@transaction.atomic
def plan_discard(*, actor, plan_id: int) -> WeekPlan:
    """Throw a draft away (its rounds were never seen by anyone, so they are deleted)."""
    plan = _lock_plan(actor=actor, plan_id=plan_id)
    round_ids = list(plan.rounds.filter(is_draft=True).values_list("pk", flat=True))
    RoundStop.objects.filter(round_id__in=round_ids).delete()
    Round.objects.filter(pk__in=round_ids).delete()
    plan.status = WeekPlan.Status.DISCARDED
    plan.save(update_fields=["status"])
    audit_record(actor=actor, action="plan.discarded", target=plan, municipality_id=plan.municipality_id)
    return plan


@transaction.atomic
def plans_draft_weekly(*, today: Date | None = None) -> list[WeekPlan]:
    """Celery beat, weekly: draft next week for every municipality that turned `weekly_auto` on and has
    no plan for it yet. Idempotent (a second run finds the plans)."""
    today = today or riyadh_today()
    week_start = next_week_start(today)
    drafted = []
    for municipality_id in PlanSettings.objects.filter(weekly_auto=True).values_list("municipality_id", flat=True):
        if (
            WeekPlan.objects.filter(municipality_id=municipality_id, week_start=week_start)
            .exclude(status=WeekPlan.Status.DISCARDED)
            .exists()
        ):
            continue
        drafted.append(plan_week_draft(actor=None, municipality_id=municipality_id, week_start=week_start))
    return drafted


# --- moving a stop between rounds (drag and drop) -------------------------------------------------


@transaction.atomic
def stop_move(*, actor, stop_id: int, to_round_id: int) -> tuple[Round, Round]:
    """Move a pending stop to another open round of the same municipality (another inspector, another
    day), where it lengthens that path least. In a draft the stop simply moves; in published rounds
    the old stop is cancelled, a new one added, and both inspectors are told."""
    stop = RoundStop.objects.select_related("round", "establishment").filter(pk=stop_id).first()
    scope = scope_for(actor)
    if stop is None or not scope.covers(stop.round.municipality_id):
        raise ApplicationError(_("Unknown stop."), code="unknown_stop", status=404)
    if not scope.has_role(Membership.Role.SUPERVISOR):
        raise PermissionDeniedError(_("Only supervisors plan and change rounds."))
    if stop.round_id == to_round_id:
        raise ApplicationError(_("The stop is already in this round."), code="same_round")
    # Both rounds locked in id order, so two moves in opposite directions cannot deadlock.
    locked = {
        pk: _lock_round(pk) for pk in sorted({stop.round_id, to_round_id}) if Round.objects.filter(pk=pk).exists()
    }
    source = locked[stop.round_id]
    target = locked.get(to_round_id)
    if target is None or not scope.covers(target.municipality_id):
        raise ApplicationError(_("Unknown round."), code="unknown_round", status=404)
    for round in (source, target):
        if round.status not in OPEN_STATUSES:
            raise ApplicationError(_("Only open rounds change."), code="round_closed")
    if source.municipality_id != target.municipality_id:
        raise ApplicationError(_("All stops of a round must be in one municipality."), code="mixed_municipalities")
    stop = RoundStop.objects.select_related("establishment").get(pk=stop_id)
    if stop.status != RoundStop.Status.PENDING:
        raise ApplicationError(_("Only pending stops move."), code="stop_not_pending")
    target_stops = _active_stops(target)
    if any(s.establishment_id == stop.establishment_id for s in target_stops):
        raise ApplicationError(_("Already a stop of that round."), code="duplicate_establishment")
    if len(target_stops) >= MAX_STOPS:
        raise ApplicationError(_("A round has at most %(max)d stops.") % {"max": MAX_STOPS}, code="too_many_stops")
    _require_checklist_applies(checklist=target.checklist, establishments=[stop.establishment])
    if source.is_draft:
        stop.delete()
    else:
        RoundStop.objects.filter(pk=stop.pk).update(status=RoundStop.Status.CANCELLED, updated_at=timezone.now())
    source_stops = [s for s in _active_stops(source) if s.pk != stop_id]
    moved = RoundStop.objects.create(
        round=target,
        establishment=stop.establishment,
        position=len(target_stops) + 1,
        is_follow_up=stop.is_follow_up,
    )
    point = (stop.establishment.lat, stop.establishment.lon)
    target_stops.insert(cheapest_insertion(_points(target_stops), point) if target_stops else 0, moved)
    for round, stops in ((source, source_stops), (target, target_stops)):
        _renumber(round, stops)
        round.tour_length_m = round_metres(route_length(_points(stops))) if len(stops) > 1 else 0.0
        round.save()
        if not round.is_draft:
            _refresh_status_locked(round)
    audit_record(
        actor=actor,
        action="round.stop_moved",
        target=target,
        municipality_id=target.municipality_id,
        details={"establishment_id": stop.establishment_id, "from_round_id": source.pk, "stop_id": moved.pk},
    )
    if not source.is_draft:
        notify_round_changed(round=source, changes={"stops_removed": [stop.establishment_id]})
    if not target.is_draft:
        notify_round_changed(round=target, changes={"stops_added": [stop.establishment_id]})
    return source, target


# --- follow-ups of overdue findings, in bulk --------------------------------------------------------


@transaction.atomic
def findings_follow_ups_schedule(*, actor, findings, inspector_id: int | None = None, due_date: Date | None = None):
    """Schedule follow-up visits for open findings (the caller fetched them through scope), one stop per
    establishment, through the one follow-up scheduler (`follow_ups_schedule`). Returns
    {finding id: stop or None}."""
    from inspections.models import Finding

    scope = scope_for(actor)
    if not scope.has_role(Membership.Role.SUPERVISOR):
        raise PermissionDeniedError(_("Only supervisors plan and change rounds."))
    closed = [finding.pk for finding in findings if finding.status != Finding.Status.OPEN]
    if closed:
        raise ApplicationError(
            _("These findings are closed: %(ids)s.") % {"ids": ", ".join(map(str, closed))},
            code="finding_closed",
            extra={"errors": [{"loc": ["finding_ids"], "ids": closed}]},
        )
    today = riyadh_today()
    if due_date is not None and due_date < today:
        raise ApplicationError(_("A follow-up cannot be planned in the past."), code="date_in_past", status=422)
    inspectors = {}
    requests = []
    for finding in findings:
        inspector = None
        if inspector_id is not None:
            key = finding.municipality_id
            if key not in inspectors:
                inspectors[key] = _inspector_in_scope(actor=actor, inspector_id=inspector_id, municipality_id=key)
            inspector = inspectors[key]
        requests.append((finding.establishment, due_date or next_working_day(today), inspector))
    stops = follow_ups_schedule(requests=requests)
    stop_ids = {stop.pk for stop in stops.values() if stop is not None}
    for finding in findings:
        stop = stops.get(finding.establishment_id)
        if stop is not None and finding.follow_up_stop_id != stop.pk:
            Finding.objects.filter(pk=finding.pk).update(follow_up_stop=stop)
    audit_record(
        actor=actor,
        action="findings.follow_ups_scheduled",
        target=findings[0],
        municipality_id=findings[0].municipality_id,
        details={"finding_ids": [f.pk for f in findings], "stop_ids": sorted(stop_ids)},
    )
    return {finding.pk: stops.get(finding.establishment_id) for finding in findings}
