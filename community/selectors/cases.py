"""Reads of cases. A case's progress is derived here, in the database, from what it links to:

    dismissed    a supervisor dismissed it (with a reason)
    closed       the round stop it was triaged into has a visit (the inspection's result)
    in_progress  the stop's round is under way
    acknowledged triaged into a stop of a planned round
    new          waiting for triage (also when its stop was missed or cancelled: back in the queue)

Nothing in `inspections` writes to a case: the stop and the visit are the truth, so the status can
never drift from them. Side effects of a change (the "report.closed" webhook) are written by the
reconciler (services/cases.py `cases_reconcile`), which reads the same expression.
"""

from __future__ import annotations

from django.db.models import Case as When_
from django.db.models import CharField, Count, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from community.models import Case, Report, Volunteer
from inspections.models import Round, RoundStop, Visit
from inspections.selectors.scope import visible_to

NEW, ACKNOWLEDGED, IN_PROGRESS, CLOSED, DISMISSED = "new", "acknowledged", "in_progress", "closed", "dismissed"
STATES = (NEW, ACKNOWLEDGED, IN_PROGRESS, CLOSED, DISMISSED)
FINISHED_STATES = (CLOSED, DISMISSED)


def _first_visit(column: str) -> Subquery:
    return Subquery(
        Visit.objects.filter(round_stop_id=OuterRef("round_stop_id")).order_by("finished_at", "id").values(column)[:1]
    )


def with_state(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Annotate `state`, the closing visit's id/outcome/violations/time and the reporter counts."""
    cases = cases.annotate(
        visit_id=_first_visit("id"),
        visit_outcome=_first_visit("outcome"),
        visit_violations=_first_visit("violation_count"),
        visit_finished_at=_first_visit("finished_at"),
        visit_received_at=_first_visit("received_at"),
    )
    return cases.annotate(
        state=When_(
            When(dismissed_at__isnull=False, then=Value(DISMISSED)),
            When(visit_id__isnull=False, then=Value(CLOSED)),
            When(round_stop__isnull=True, then=Value(NEW)),
            When(round_stop__status__in=[RoundStop.Status.MISSED, RoundStop.Status.CANCELLED], then=Value(NEW)),
            When(round_stop__round__status=Round.Status.IN_PROGRESS, then=Value(IN_PROGRESS)),
            default=Value(ACKNOWLEDGED),
            output_field=CharField(),
        ),
        reporters=_report_count("reporter_key"),
        volunteers=_report_count("volunteer_id"),
    )


def _report_count(column: str):
    # A subquery, not a JOIN + GROUP BY: the state expression stays filterable and cheap.
    counted = (
        Report.objects.filter(case_id=OuterRef("pk"))
        .values("case_id")
        .annotate(n=Count(column, distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _base() -> QuerySet[Case]:
    return Case.objects.select_related("service_type", "establishment", "round_stop__round__inspector")


def public_cases() -> QuerySet[Case]:
    """Every case, for the public Open311 surface (which shows no reporter's data)."""
    return with_state(_base())


def open_cases() -> QuerySet[Case]:
    """Cases a new report may still join."""
    return with_state(Case.objects.all()).exclude(state__in=FINISHED_STATES)


def visible_cases(*, user) -> QuerySet[Case]:
    return with_state(visible_to(_base(), user=user))


def triage_queue(*, user) -> QuerySet[Case]:
    """Cases waiting for a supervisor: volunteers' reports first, then the most reported, then the oldest."""
    return visible_cases(user=user).filter(state=NEW).order_by("-volunteers", "-reporters", "opened_at", "id")


def case_state_of(case_id: int) -> Case:
    return with_state(_base()).get(pk=case_id)


def confirmed_reports_of(volunteer: Volunteer) -> QuerySet[Report]:
    return Report.objects.filter(volunteer=volunteer, case__in=_confirmed_case_ids())


def _confirmed_case_ids():
    return confirmed_cases().values("id")


def confirmed_cases() -> QuerySet[Case]:
    """Cases whose inspection found a violation (the report was right): state closed with
    visit_violations > 0 in `with_state`'s terms (not dismissed, and the first visit of their stop
    found violations), annotated with that visit's violations and received_at only. The visit sync
    reads it for every establishment whose risk it refreshes: the whole state expression would cost
    more to build than to run."""
    return (
        Case.objects.filter(dismissed_at__isnull=True, round_stop__isnull=False)
        .annotate(visit_violations=_first_visit("violation_count"), visit_received_at=_first_visit("received_at"))
        .filter(visit_violations__gt=0)
    )


def photo_tokens(case_ids) -> dict[int, str]:
    """{case id: the photo token of its first report with a photo} (the image Open311's media serves)."""
    tokens: dict[int, str] = {}
    for case_id, token in (
        Report.objects.filter(case_id__in=list(case_ids)).exclude(photo="").order_by("submitted_at", "id")
    ).values_list("case_id", "photo_token"):
        tokens.setdefault(case_id, token)
    return tokens
