"""Reads of findings, scoped to the caller's municipalities."""

from django.db.models import QuerySet

from inspections.domain.calendar import riyadh_today
from inspections.models import Finding
from inspections.selectors.scope import visible_to


def visible_findings(*, user) -> QuerySet[Finding]:
    return visible_to(Finding.objects.all(), user=user)


def findings_list(
    *,
    user,
    status: str | None = None,
    severity: str | None = None,
    municipality: int | None = None,
    establishment: int | None = None,
    overdue: bool | None = None,
) -> QuerySet[Finding]:
    """Findings in scope, newest first. Overdue: still open after its due date (local today)."""
    findings = visible_findings(user=user)
    if status is not None:
        findings = findings.filter(status=status)
    if severity is not None:
        findings = findings.filter(severity=severity)
    if municipality is not None:
        findings = findings.filter(municipality_id=municipality)
    if establishment is not None:
        findings = findings.filter(establishment_id=establishment)
    if overdue is not None:
        today = riyadh_today()
        late = {"status": Finding.Status.OPEN, "due_date__lt": today}
        findings = findings.filter(**late) if overdue else findings.exclude(**late)
    return findings.order_by("-opened_at", "-id")


def finding_is_overdue(finding: Finding) -> bool:
    return finding.status == Finding.Status.OPEN and finding.due_date < riyadh_today()
