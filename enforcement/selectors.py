"""Scoped reads of enforcement records: every one goes through inspections' `visible_to`."""

from django.db.models import QuerySet

from enforcement.models import Objection, PenaltyNotice, ViolationType, VisitReport
from inspections.selectors.scope import visible_to


def violations_list() -> QuerySet[ViolationType]:
    return ViolationType.objects.all()


def visible_notices(*, user) -> QuerySet[PenaltyNotice]:
    return visible_to(
        PenaltyNotice.objects.select_related("establishment", "violation", "municipality"), user=user
    ).order_by("-issued_at", "-id")


def visible_objections(*, user) -> QuerySet[Objection]:
    return visible_to(
        Objection.objects.select_related("notice", "notice__establishment").prefetch_related("attachments"),
        user=user,
        field="notice__municipality",
    )


def visible_reports(*, user) -> QuerySet[VisitReport]:
    return visible_to(VisitReport.objects.select_related("visit"), user=user, field="visit__municipality")


def report_by_code(*, code: str) -> VisitReport | None:
    return VisitReport.objects.select_related("visit__establishment", "visit__municipality").filter(code=code).first()
