"""The supervisor's planning endpoints: inspectors, today's board, consistency, risk queue, week plans,
moving stops, plan settings, recurring visits, overdue findings and bulk follow-ups.

Over 500 lines because it is the one router of the console's planning screen: each endpoint is a
few lines of parsing and presenting around one service call, and splitting the router would split
one OpenAPI tag and its shared error answers across files for no gain in reading."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from backend.api_basics import ERRORS, MAX_ID, ErrorOut
from backend.exceptions import ApplicationError, PermissionDeniedError
from inspections.api.schemas.console import (
    BoardOut,
    ConsistencyOut,
    CriticalFindingOut,
    FlaggedVisitOut,
    FollowUpOut,
    FollowUpsIn,
    InspectorOut,
    InspectorPage,
    LastSeenOut,
    OverdueFindingRowOut,
    OverduePage,
    PlanIn,
    PlanOut,
    PlanPage,
    PlanRoundOut,
    PlanSettingsIn,
    PlanSettingsOut,
    PlanStopOut,
    PlanSummaryOut,
    RecurringIn,
    RecurringOut,
    RiskOut,
    RiskPage,
    StopMoveIn,
    WorkloadOut,
)
from inspections.domain.calendar import riyadh_today
from inspections.domain.names import person_name
from inspections.models import Finding, Membership, RecurringVisit, Round, RoundStop, WeekPlan
from inspections.selectors.findings import visible_findings
from inspections.selectors.inspectors import consistency, last_seen, visible_inspectors, workloads
from inspections.selectors.reviews import review_queue, visit_flags
from inspections.selectors.risk import establishments_risk, plan_settings_for
from inspections.selectors.scope import scope_for, visible_to
from inspections.services.planning import (
    findings_follow_ups_schedule,
    plan_discard,
    plan_publish,
    plan_settings_update,
    plan_week_draft,
    recurring_visit_delete,
    recurring_visits_create,
    stop_move,
)

router = Router(tags=["planning"])
MAX_LIMIT = 500


def _require_overseer(request: HttpRequest) -> None:
    """Supervisors, leadership and admins; inspectors plan nothing."""
    scope = scope_for(request.user)
    if not scope.has_role(Membership.Role.SUPERVISOR, Membership.Role.LEADERSHIP):
        raise PermissionDeniedError(_("Only supervisors and leadership see this."))


def _require_municipality(request: HttpRequest, municipality_id: int) -> None:
    if not scope_for(request.user).covers(municipality_id):
        raise ApplicationError(_("Not found."), code="not_found", status=404)


def _inspectors_out(inspectors: list, today) -> list[InspectorOut]:
    ids = [inspector.pk for inspector in inspectors]
    loads = workloads(inspector_ids=ids, today=today)
    seen = last_seen(inspector_ids=ids)
    municipalities = {}
    for user_id, municipality_id in Membership.municipalities.through.objects.filter(
        membership__user_id__in=ids
    ).values_list("membership__user_id", "municipality_id"):
        municipalities.setdefault(user_id, []).append(municipality_id)
    result = []
    for inspector in inspectors:
        load = loads.get(inspector.pk)
        fix = seen.get(inspector.pk)
        result.append(
            InspectorOut(
                id=inspector.pk,
                username=inspector.get_username(),
                name=person_name(inspector),
                municipality_ids=sorted(municipalities.get(inspector.pk, [])),
                workload=WorkloadOut(**(load.__dict__ if load else {k: 0 for k in WorkloadOut.model_fields})),
                last_seen=LastSeenOut(**fix.__dict__) if fix else None,
            )
        )
    return result


@router.get("inspectors", response={200: InspectorPage, **ERRORS})
def inspectors_list(request: HttpRequest, municipality: int | None = Query(None, ge=1, le=MAX_ID)):
    """Inspectors working in the caller's municipalities, with today's progress, the next seven days'
    load and where they were last seen (their latest visit's fix)."""
    _require_overseer(request)
    inspectors = list(visible_inspectors(user=request.user, municipality_id=municipality)[:MAX_LIMIT])
    items = _inspectors_out(inspectors, riyadh_today())
    return InspectorPage(items=items, count=len(items))


@router.get("inspectors/consistency", response={200: list[ConsistencyOut], **ERRORS})
def inspectors_consistency(
    request: HttpRequest,
    days: int = Query(90, ge=7, le=730),
    municipality: int | None = Query(None, ge=1, le=MAX_ID),
):
    """Per inspector: violations found against those expected from the categories of the shops they
    visited (indirect standardisation, 95% interval). A quality signal, not a target."""
    _require_overseer(request)
    if municipality is not None:
        _require_municipality(request, municipality)
    inspectors = {user.pk: user for user in visible_inspectors(user=request.user, municipality_id=municipality)}
    figures = consistency(user=request.user, days=days, municipality_id=municipality)
    return [
        ConsistencyOut(
            inspector_id=pk,
            name=person_name(user),
            visits=figure.visits,
            observed=figure.observed,
            expected=figure.expected,
            ratio=figure.ratio,
            low=figure.low,
            high=figure.high,
            signal=figure.signal,
        )
        for pk, user in inspectors.items()
        if (figure := figures.get(pk)) is not None
    ]


def flagged_out(visit, differed) -> FlaggedVisitOut:
    return FlaggedVisitOut(
        id=visit.pk,
        establishment_id=visit.establishment_id,
        establishment_name=visit.establishment.name_ar,
        inspector_id=visit.inspector_id,
        inspector_name=person_name(visit.inspector),
        municipality_id=visit.municipality_id,
        finished_at=visit.finished_at,
        outcome=visit.outcome,
        lat=visit.lat,
        lon=visit.lon,
        geo_distance_m=visit.geo_distance_m,
        duration_minutes=round((visit.finished_at - visit.started_at).total_seconds() / 60, 1),
        flags=visit_flags(visit, differed=differed),
        review_status=getattr(getattr(visit, "review", None), "status", None),
    )


@router.get("board", response={200: BoardOut, **ERRORS})
def board(request: HttpRequest, municipality: int | None = Query(None, ge=1, le=MAX_ID)):
    """Today's board: every inspector's progress and last fix, and what needs the supervisor now
    (critical findings opened in the last 24 hours, flagged visits waiting for a decision)."""
    _require_overseer(request)
    if municipality is not None:
        _require_municipality(request, municipality)
    today = riyadh_today()
    inspectors = list(visible_inspectors(user=request.user, municipality_id=municipality)[:MAX_LIMIT])
    critical = visible_findings(user=request.user).filter(
        severity="critical", status=Finding.Status.OPEN, opened_at__gte=timezone.now() - timedelta(days=1)
    )
    if municipality is not None:
        critical = critical.filter(municipality_id=municipality)
    flagged, differed = review_queue(user=request.user, municipality_id=municipality, days=7)
    return BoardOut(
        date=today,
        generated_at=timezone.now(),
        inspectors=_inspectors_out(inspectors, today),
        critical_findings=[
            CriticalFindingOut(
                id=finding.pk,
                establishment_id=finding.establishment_id,
                establishment_name=finding.establishment.name_ar,
                item_code=finding.item_code,
                opened_at=finding.opened_at,
            )
            for finding in critical.select_related("establishment").order_by("-opened_at")[:50]
        ],
        flagged_visits=[flagged_out(visit, differed) for visit in flagged[:50]],
        flagged_count=flagged.count(),
    )


# --- risk -----------------------------------------------------------------------------------------


@router.get("municipalities/{municipality_id}/risk", response={200: RiskPage, **ERRORS})
def risk_queue(
    request: HttpRequest,
    municipality_id: int,
    due_only: bool = False,
    limit: int = Query(200, ge=1, le=5000),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    """The municipality's establishments ranked by how urgently they need a visit (overdue first, then
    risk), each with its risk score, class, due date and the factors that make up the score."""
    _require_overseer(request)
    _require_municipality(request, municipality_id)
    today = riyadh_today()
    risks = establishments_risk(municipality_id=municipality_id, today=today)
    if due_only:
        risks = [r for r in risks if r.due_date <= today or (r.follow_up_due and r.follow_up_due <= today)]
    risks.sort(key=lambda r: (-r.overdue_days(today), -r.assessment.score, r.establishment.pk))
    page = risks[offset : offset + limit]
    return RiskPage(
        count=len(risks),
        items=[
            RiskOut(
                establishment_id=r.establishment.pk,
                name_ar=r.establishment.name_ar,
                name_en=r.establishment.name_en,
                licence_no=r.establishment.licence_no,
                category=r.establishment.category.code,
                lat=r.establishment.lat,
                lon=r.establishment.lon,
                score=r.assessment.score,
                risk_class=r.risk_class,
                last_inspection=r.last_inspection,
                due_date=r.due_date,
                overdue_days=r.overdue_days(today),
                open_findings=r.open_findings,
                follow_up_due=r.follow_up_due,
                factors=[factor.__dict__ for factor in r.assessment.factors],
            )
            for r in page
        ],
    )


# --- week plans -----------------------------------------------------------------------------------


def _visible_plans(request: HttpRequest):
    return visible_to(WeekPlan.objects.all(), user=request.user)


def _plan_out(plan: WeekPlan) -> PlanOut:
    rounds = Round.objects.filter(plan=plan).exclude(status=Round.Status.CANCELLED)
    return PlanOut(
        id=plan.pk,
        municipality_id=plan.municipality_id,
        week_start=plan.week_start,
        status=plan.status,
        summary=plan.summary,
        created_at=plan.created_at,
        published_at=plan.published_at,
        rounds=_rounds_out(rounds),
    )


def _summary_out(plan: WeekPlan) -> PlanSummaryOut:
    return PlanSummaryOut(
        id=plan.pk,
        municipality_id=plan.municipality_id,
        week_start=plan.week_start,
        status=plan.status,
        summary=plan.summary,
        created_at=plan.created_at,
        published_at=plan.published_at,
    )


@router.post("plans", response={201: PlanOut, 409: ErrorOut, **ERRORS})
def plans_create(request: HttpRequest, payload: PlanIn):
    """Draft the week's rounds for a municipality (see docs/console.md): due establishments by risk
    class and frequency, follow-ups due, recurring visits; balanced over the inspectors' free daily
    capacity, grouped by geography and routed. Phones see nothing until the plan is published."""
    plan = plan_week_draft(actor=request.user, municipality_id=payload.municipality_id, week_start=payload.week_start)
    return Status(201, _plan_out(plan))


@router.get("plans", response={200: PlanPage, **ERRORS})
def plans_list(
    request: HttpRequest,
    municipality: int | None = Query(None, ge=1, le=MAX_ID),
    status: WeekPlan.Status | None = None,
    limit: int = Query(20, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    """Week plans in the caller's scope, newest week first."""
    _require_overseer(request)
    plans = _visible_plans(request)
    if municipality is not None:
        plans = plans.filter(municipality_id=municipality)
    if status is not None:
        plans = plans.filter(status=status)
    return PlanPage(items=[_summary_out(plan) for plan in plans[offset : offset + limit]], count=plans.count())


@router.get("plans/{plan_id}", response={200: PlanOut, **ERRORS})
def plans_detail(request: HttpRequest, plan_id: int):
    """A plan with its rounds and stops, in route order."""
    _require_overseer(request)
    return _plan_out(get_object_or_404(_visible_plans(request), pk=plan_id))


@router.post("plans/{plan_id}/publish", response={200: PlanOut, 409: ErrorOut, **ERRORS})
def plans_publish(request: HttpRequest, plan_id: int):
    """Publish a draft plan: its rounds reach the inspectors' phones and each inspector is notified."""
    get_object_or_404(_visible_plans(request), pk=plan_id)
    return _plan_out(plan_publish(actor=request.user, plan_id=plan_id))


@router.post("plans/{plan_id}/discard", response={200: PlanSummaryOut, 409: ErrorOut, **ERRORS})
def plans_discard(request: HttpRequest, plan_id: int):
    """Throw a draft plan away (its rounds were never seen, so they are deleted)."""
    get_object_or_404(_visible_plans(request), pk=plan_id)
    return _summary_out(plan_discard(actor=request.user, plan_id=plan_id))


@router.post("stops/move", response={200: list[PlanRoundOut], 409: ErrorOut, **ERRORS})
def stops_move(request: HttpRequest, payload: StopMoveIn):
    """Move a pending stop to another open round (another inspector or day), where it lengthens that
    path least. Answers both rounds as they are now."""
    source, target = stop_move(actor=request.user, stop_id=payload.stop_id, to_round_id=payload.to_round_id)
    plan_rounds = {r.id: r for r in _rounds_out(Round.objects.filter(pk__in=[source.pk, target.pk]))}
    return [plan_rounds[source.pk], plan_rounds[target.pk]]


def _rounds_out(rounds) -> list[PlanRoundOut]:
    rounds = (
        rounds.select_related("inspector")
        .prefetch_related("stops__establishment")
        .order_by("date", "inspector_id", "id")
    )
    return [
        PlanRoundOut(
            id=round.pk,
            date=round.date,
            inspector_id=round.inspector_id,
            inspector_name=person_name(round.inspector),
            checklist_id=round.checklist_id,
            status=round.status,
            is_draft=round.is_draft,
            tour_length_m=round.tour_length_m,
            stops=[
                PlanStopOut(
                    id=stop.pk,
                    establishment_id=stop.establishment_id,
                    name_ar=stop.establishment.name_ar,
                    name_en=stop.establishment.name_en,
                    lat=stop.establishment.lat,
                    lon=stop.establishment.lon,
                    position=stop.position,
                    status=stop.status,
                    is_follow_up=stop.is_follow_up,
                )
                for stop in sorted(round.stops.all(), key=lambda s: s.position)
                if stop.status != RoundStop.Status.CANCELLED
            ],
        )
        for round in rounds
    ]


# --- settings and recurring visits ------------------------------------------------------------------


def _settings_out(settings) -> PlanSettingsOut:
    return PlanSettingsOut(
        municipality_id=settings.municipality_id,
        **{name: getattr(settings, name) for name in PlanSettingsOut.model_fields if name != "municipality_id"},
    )


@router.get("municipalities/{municipality_id}/plan-settings", response={200: PlanSettingsOut, **ERRORS})
def plan_settings_get(request: HttpRequest, municipality_id: int):
    """How the municipality's weeks are planned (defaults until a supervisor changes them)."""
    _require_overseer(request)
    _require_municipality(request, municipality_id)
    return _settings_out(plan_settings_for(municipality_id))


@router.patch("municipalities/{municipality_id}/plan-settings", response={200: PlanSettingsOut, **ERRORS})
def plan_settings_patch(request: HttpRequest, municipality_id: int, payload: PlanSettingsIn):
    """Change the frequencies per risk class, the thresholds, the daily capacity or the weekly auto-draft."""
    _require_municipality(request, municipality_id)
    values = payload.model_dump(exclude_none=True)
    if not values:
        raise ApplicationError(_("Nothing to change."), code="nothing_to_change", status=422)
    return _settings_out(plan_settings_update(actor=request.user, municipality_id=municipality_id, **values))


def _recurring_out(recurring: RecurringVisit) -> RecurringOut:
    return RecurringOut(
        id=recurring.pk,
        municipality_id=recurring.municipality_id,
        establishment_id=recurring.establishment_id,
        every_weeks=recurring.every_weeks,
        start_week=recurring.start_week,
        inspector_id=recurring.inspector_id,
    )


@router.get("recurring-visits", response={200: list[RecurringOut], **ERRORS})
def recurring_list(request: HttpRequest, municipality: int | None = Query(None, ge=1, le=MAX_ID)):
    """Shops visited every N weeks whatever their risk."""
    _require_overseer(request)
    visits = visible_to(RecurringVisit.objects.all(), user=request.user)
    if municipality is not None:
        visits = visits.filter(municipality_id=municipality)
    return [_recurring_out(recurring) for recurring in visits[:MAX_LIMIT]]


@router.post("recurring-visits", response={201: list[RecurringOut], **ERRORS})
def recurring_create(request: HttpRequest, payload: RecurringIn):
    """Visit these shops every `every_weeks` weeks from `start_week` (a Sunday); the planner adds them."""
    _require_municipality(request, payload.municipality_id)
    created = recurring_visits_create(
        actor=request.user,
        municipality_id=payload.municipality_id,
        establishment_ids=payload.establishment_ids,
        every_weeks=payload.every_weeks,
        start_week=payload.start_week,
        inspector_id=payload.inspector_id,
    )
    return Status(201, [_recurring_out(recurring) for recurring in created])


@router.delete("recurring-visits/{recurring_id}", response={204: None, **ERRORS})
def recurring_delete(request: HttpRequest, recurring_id: int):
    """Stop visiting a shop on a fixed rhythm."""
    recurring = get_object_or_404(visible_to(RecurringVisit.objects.all(), user=request.user), pk=recurring_id)
    recurring_visit_delete(actor=request.user, recurring=recurring)
    return Status(204, None)


# --- overdue findings and bulk follow-ups -----------------------------------------------------------


@router.get("findings/overdue", response={200: OverduePage, **ERRORS})
def findings_overdue(
    request: HttpRequest,
    municipality: int | None = Query(None, ge=1, le=MAX_ID),
    severity: Literal["minor", "major", "critical"] | None = None,
    unscheduled: bool = False,
    limit: int = Query(200, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    """Every open finding past its due date in scope (the whole list, most overdue first); filter by
    municipality, severity, or those without a follow-up planned."""
    _require_overseer(request)
    today = riyadh_today()
    findings = visible_findings(user=request.user).filter(status=Finding.Status.OPEN, due_date__lt=today)
    if municipality is not None:
        findings = findings.filter(municipality_id=municipality)
    if severity is not None:
        findings = findings.filter(severity=severity)
    if unscheduled:
        findings = findings.exclude(follow_up_stop__status=RoundStop.Status.PENDING)
    findings = findings.select_related("establishment", "follow_up_stop__round").order_by("due_date", "id")
    return OverduePage(
        count=findings.count(),
        items=[
            OverdueFindingRowOut(
                id=finding.pk,
                establishment_id=finding.establishment_id,
                establishment_name=finding.establishment.name_ar,
                municipality_id=finding.municipality_id,
                item_code=finding.item_code,
                severity=finding.severity,
                fine_sar=finding.fine_sar,
                due_date=finding.due_date,
                days_overdue=(today - finding.due_date).days,
                follow_up_date=(
                    finding.follow_up_stop.round.date
                    if finding.follow_up_stop and finding.follow_up_stop.status == RoundStop.Status.PENDING
                    else None
                ),
            )
            for finding in findings[offset : offset + limit]
        ],
    )


@router.post("findings/follow-ups", response={200: list[FollowUpOut], **ERRORS})
def findings_follow_ups(request: HttpRequest, payload: FollowUpsIn):
    """Schedule follow-up visits for many open findings at once (one stop per establishment, joining a
    planned round of the municipality by the due date where one has room, else a new round)."""
    if not scope_for(request.user).has_role(Membership.Role.SUPERVISOR):
        raise PermissionDeniedError(_("Only supervisors plan and change rounds."))
    wanted = list(dict.fromkeys(payload.finding_ids))
    findings = list(visible_findings(user=request.user).filter(pk__in=wanted).select_related("establishment"))
    missing = sorted(set(wanted) - {finding.pk for finding in findings})
    if missing:
        raise ApplicationError(
            _("Unknown findings: %(ids)s.") % {"ids": ", ".join(map(str, missing))},
            code="unknown_findings",
            extra={"errors": [{"loc": ["finding_ids"], "ids": missing}]},
        )
    stops = findings_follow_ups_schedule(
        actor=request.user, findings=findings, inspector_id=payload.inspector_id, due_date=payload.due_date
    )
    rounds = dict(RoundStop.objects.filter(pk__in=[s.pk for s in stops.values() if s]).values_list("pk", "round__date"))
    return [
        FollowUpOut(
            finding_id=finding.pk,
            establishment_id=finding.establishment_id,
            round_id=stops[finding.pk].round_id if stops.get(finding.pk) else None,
            stop_id=stops[finding.pk].pk if stops.get(finding.pk) else None,
            date=rounds.get(stops[finding.pk].pk) if stops.get(finding.pk) else None,
        )
        for finding in findings
    ]
