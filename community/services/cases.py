"""Triage of cases by supervisors, and the reconciler that announces closed cases.

A case closed by an inspection that found a violation raises its establishment's risk (the
`confirmed_reports` factor of community.selectors.risk): the sync that closes it stores the new score,
and the reconciler recomputes the stored score of every confirmed case it announces, through
inspections' own `establishments_risk_refresh` (the one rule; inspections imports nothing of this app).

A case becomes a priority stop through the rounds services (`round_update`, `round_create`): they
are the one write path for stops (scope, checklist fit, audit trail, the inspector's notification).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.exceptions import ApplicationError, PermissionDeniedError
from community.models import Case, Volunteer
from community.selectors import cases as case_selectors
from community.services.reports import case_event_payload
from community.services.webhooks import webhook_event_record
from inspections.models import Establishment, Membership, RoundStop
from inspections.selectors.rounds import visible_rounds
from inspections.selectors.scope import scope_for, visible_to
from inspections.services.findings import establishments_risk_refresh
from inspections.services.rounds import RoundChange, round_create, round_update
from notifications.services import notification_create

# What a registered volunteer hears about their report, in Arabic (the default) or English.
TEXTS = {
    "report_closed": {
        "en": ("Your report was inspected", "Report {case}: inspected on {date}; violations found: {violations}."),
        "ar": ("تم التفتيش على بلاغك", "البلاغ {case}: تم التفتيش في {date}؛ المخالفات المرصودة: {violations}."),
    },
    "report_dismissed": {
        "en": ("Your report was reviewed", "Report {case} was closed without an inspection: {reason}"),
        "ar": ("تمت مراجعة بلاغك", "حُفظ البلاغ {case} دون تفتيش: {reason}"),
    },
}


def _notify_volunteers(case: Case, *, kind: str, context: dict) -> None:
    """Tell the case's registered reporters (volunteers) how it ended, in the same transaction."""
    for volunteer in Volunteer.objects.filter(reports__case=case, is_active=True).select_related("user").distinct():
        language = getattr(getattr(volunteer.user, "membership", None), "language", None) or "ar"
        title, body = TEXTS[kind]["en" if language == "en" else "ar"]
        notification_create(
            recipient=volunteer.user,
            kind=kind,
            dedupe_key=f"{kind}:{case.pk}:{volunteer.user_id}",
            title=title,
            body=body.format(case=case.pk, **context),
            language=language,
            payload={"case_id": case.pk},
        )


@dataclass
class TriageIn:
    """Into an existing round (`round_id`), or a new round for `inspector_id` on `date` with `checklist_id`."""

    round_id: int | None = None
    inspector_id: int | None = None
    date: Date | None = None
    checklist_id: int | None = None
    establishment_id: int | None = None  # required when the case names no establishment


def _require_supervisor(actor) -> None:
    if not scope_for(actor).has_role(Membership.Role.SUPERVISOR):
        raise PermissionDeniedError(_("Only supervisors triage public reports."))


def _lock_new_case(case_id: int) -> Case:
    Case.objects.select_for_update().filter(pk=case_id).first()
    case = case_selectors.case_state_of(case_id)
    if case.state != case_selectors.NEW:
        raise ApplicationError(_("This case was triaged already."), code="case_not_new", status=409)
    return case


@transaction.atomic
def case_triage(*, actor, case_id: int, triage: TriageIn) -> Case:
    """Turn a case into a priority stop (first among the pending stops) of a planned round."""
    _require_supervisor(actor)
    case = _lock_new_case(case_id)
    establishment = case.establishment
    if establishment is None:
        if triage.establishment_id is None:
            raise ApplicationError(
                _("This case names no establishment: choose one (establishment_id)."),
                code="establishment_required",
                extra={"errors": [{"loc": ["establishment_id"], "msg": "required"}]},
            )
        establishment = visible_to(Establishment.objects.all(), user=actor).filter(pk=triage.establishment_id).first()
        if establishment is None or establishment.municipality_id != case.municipality_id:
            raise ApplicationError(_("Unknown establishment."), code="unknown_establishment")

    if triage.round_id is not None:
        if not visible_rounds(user=actor).filter(pk=triage.round_id).exists():
            raise ApplicationError(_("Unknown round."), code="unknown_round", extra={"errors": [{"loc": ["round_id"]}]})
        already = RoundStop.objects.filter(
            round_id=triage.round_id, establishment=establishment, status=RoundStop.Status.PENDING
        ).exists()
        if already:  # the shop is on that round already: its stop becomes the priority
            round_ = visible_rounds(user=actor).get(pk=triage.round_id)
        else:
            round_ = round_update(
                actor=actor, round_id=triage.round_id, change=RoundChange(add_establishment_ids=[establishment.pk])
            )
        stops = list(round_.stops.exclude(status=RoundStop.Status.CANCELLED).order_by("position"))
        new_stop = next(stop for stop in stops if stop.establishment_id == establishment.pk)
        pending = [stop for stop in stops if stop.status == RoundStop.Status.PENDING and stop.pk != new_stop.pk]
        done = [stop for stop in stops if stop.status != RoundStop.Status.PENDING]
        order = [stop.pk for stop in done] + [new_stop.pk] + [stop.pk for stop in pending]
        if order != [stop.pk for stop in stops]:
            round_update(actor=actor, round_id=round_.pk, change=RoundChange(stop_ids=order))
    else:
        if triage.inspector_id is None or triage.date is None or triage.checklist_id is None:
            raise ApplicationError(
                _("Give a round_id, or inspector_id, date and checklist_id for a new round."), code="round_required"
            )
        round_ = round_create(
            actor=actor,
            inspector_id=triage.inspector_id,
            date=triage.date,
            checklist_id=triage.checklist_id,
            establishment_ids=[establishment.pk],
            optimize_route=False,
        )
        new_stop = round_.stops.get(establishment=establishment)

    now = timezone.now()
    Case.objects.filter(pk=case.pk).update(
        round_stop=new_stop, establishment=establishment, triaged_by=actor, triaged_at=now, updated_at=now
    )
    return case_selectors.case_state_of(case.pk)


@transaction.atomic
def case_dismiss(*, actor, case_id: int, reason: str) -> Case:
    _require_supervisor(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Give the reason for dismissing."), code="reason_required")
    case = _lock_new_case(case_id)
    now = timezone.now()
    Case.objects.filter(pk=case.pk).update(
        dismissed_reason=reason[:2000], dismissed_at=now, triaged_by=actor, triaged_at=now, closed_announced_at=now
    )
    case = case_selectors.case_state_of(case.pk)
    webhook_event_record(
        event_type="report.closed",
        subject=f"case:{case.pk}",
        occurred_at=now,
        payload=case_event_payload(case, state="dismissed", reason=case.dismissed_reason),
    )
    _notify_volunteers(case, kind="report_dismissed", context={"reason": case.dismissed_reason})
    return case


@transaction.atomic
def cases_reconcile(*, limit: int = 500) -> int:
    """Announce cases that closed since the last run (their stop got a visit): the report.closed event."""
    closed = list(
        case_selectors.public_cases()
        .filter(state=case_selectors.CLOSED, closed_announced_at__isnull=True)
        .order_by("id")[:limit]
    )
    now = timezone.now()
    for case in closed:
        webhook_event_record(
            event_type="report.closed",
            subject=f"case:{case.pk}",
            occurred_at=case.visit_received_at or now,
            payload=case_event_payload(
                case,
                state="closed",
                visit_id=case.visit_id,
                outcome=case.visit_outcome,
                violation_count=case.visit_violations,
            ),
        )
        _notify_volunteers(
            case,
            kind="report_closed",
            context={
                "date": timezone.localdate(case.visit_finished_at).isoformat(),
                "violations": case.visit_violations or 0,
            },
        )
    Case.objects.filter(pk__in=[case.pk for case in closed]).update(closed_announced_at=now)
    confirmed = {case.establishment_id for case in closed if case.establishment_id and (case.visit_violations or 0) > 0}
    if confirmed:
        establishments_risk_refresh(establishment_ids=confirmed, now=now)
    return len(closed)
