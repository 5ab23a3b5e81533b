"""Builders for enforcement tests: a catalogue row, and a violating visit with its finding."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from enforcement.models import ViolationType
from inspections.models import Answer, Finding, Visit
from tests.factories import ChecklistItemFactory, ChecklistVersionFactory, EstablishmentFactory, VisitFactory


def violation(code="V-1", *, grade="not_serious", fine_max="1000.00", cap="3000.00", grace=3, **extra) -> ViolationType:
    return ViolationType.objects.create(
        code=code,
        article=extra.pop("article", "Art. 5(2) of the sample table"),
        text_ar="مخالفة تجريبية",
        text_en="A test violation",
        grade=grade,
        fine_min_sar=Decimal(extra.pop("fine_min", "100.00")),
        fine_max_sar=Decimal(fine_max),
        grace_days=grace,
        repeat_multiplier=Decimal(extra.pop("multiplier", "2")),
        repeat_min_days=extra.pop("min_days", 14),
        repeat_window_days=extra.pop("window_days", 365),
        cap_sar=Decimal(cap),
        source="test",
        **extra,
    )


def violating_visit(
    *,
    establishment=None,
    municipality=None,
    inspector,
    code: str = "V-1",
    at: datetime | None = None,
    item=None,
    size: str = "large",
):
    """A visit of `inspector` whose failed item (pointing at catalogue `code`) opened a finding at `at`."""
    at = at or timezone.now()
    if establishment is None:
        establishment = EstablishmentFactory(municipality=municipality, size_class=size)
    if item is None:
        item = ChecklistItemFactory(version=ChecklistVersionFactory(), violation_code=code)
    visit = VisitFactory(
        establishment=establishment,
        inspector=inspector,
        checklist_version=item.version,
        outcome=Visit.Outcome.VIOLATIONS,
        violation_count=1,
        finished_at=at,
    )
    answer = Answer.objects.create(visit=visit, item=item, item_code=item.code, value="no", failed=True)
    finding = Finding.objects.create(
        visit=visit,
        answer=answer,
        establishment=establishment,
        municipality=establishment.municipality,
        item_code=item.code,
        severity=item.severity,
        fine_sar=item.fine_sar,
        due_date=timezone.localdate(at) + timedelta(days=7),
        opened_at=at,
    )
    return visit, finding
