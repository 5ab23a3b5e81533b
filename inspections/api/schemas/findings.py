"""Schemas of the findings endpoints."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from inspections.selectors.findings import finding_is_overdue


class FindingOut(BaseModel):
    id: int
    visit_id: int
    establishment_id: int
    municipality_id: int
    item_code: str
    severity: str
    fine_sar: Decimal
    due_date: date
    status: str
    overdue: bool
    opened_at: datetime
    closed_at: datetime | None
    closed_by_visit_id: int | None
    follow_up_stop_id: int | None
    repeat_count: int = Field(description="Later visits that failed the same item while the finding was open")
    last_seen_visit_id: int | None = Field(description="The latest of those visits")


def finding_out(finding) -> FindingOut:
    return FindingOut(
        id=finding.pk,
        visit_id=finding.visit_id,
        establishment_id=finding.establishment_id,
        municipality_id=finding.municipality_id,
        item_code=finding.item_code,
        severity=finding.severity,
        fine_sar=finding.fine_sar,
        due_date=finding.due_date,
        status=finding.status,
        overdue=finding_is_overdue(finding),
        opened_at=finding.opened_at,
        closed_at=finding.closed_at,
        closed_by_visit_id=finding.closed_by_visit_id,
        follow_up_stop_id=finding.follow_up_stop_id,
        repeat_count=finding.repeat_count,
        last_seen_visit_id=finding.last_seen_visit_id,
    )
