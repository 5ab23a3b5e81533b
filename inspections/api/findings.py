"""Findings endpoints: open and closed violations in the caller's scope."""

from typing import Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router
from ninja.pagination import paginate

from backend.api_basics import ERRORS, MAX_ID, MappedList, Page
from inspections.api.schemas.findings import FindingOut, finding_out
from inspections.selectors.findings import findings_list, visible_findings

router = Router(tags=["findings"])


@router.get("findings", response={200: list[FindingOut], **ERRORS})
@paginate(Page)
def findings_index(
    request: HttpRequest,
    status: Literal["open", "closed"] | None = None,
    severity: Literal["minor", "major", "critical"] | None = None,
    municipality: int | None = Query(None, ge=1, le=MAX_ID),
    establishment: int | None = Query(None, ge=1, le=MAX_ID),
    overdue: bool | None = None,
):
    """Findings in scope, newest first; `overdue=true`: open past their due date."""
    findings = findings_list(
        user=request.user,
        status=status,
        severity=severity,
        municipality=municipality,
        establishment=establishment,
        overdue=overdue,
    )
    return MappedList(findings, finding_out)


@router.get("findings/{finding_id}", response={200: FindingOut, **ERRORS})
def finding_get(request: HttpRequest, finding_id: int):
    """One finding (a 404 outside the caller's scope)."""
    return finding_out(get_object_or_404(visible_findings(user=request.user), pk=finding_id))
