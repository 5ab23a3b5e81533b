"""Penalties computed on hand-computed cases: every size and class, grace lapsed or corrected, a repeat
at 13 and 15 days, the cap. Base 1,000 SAR; SAMPLE class factors A 1.00, B 0.80, C 0.60, D 0.40,
E 0.20; size factors large 1.00, medium 0.75, small 0.50, micro 0.25; repeat ×2; cap 3,000."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from enforcement.domain.fines import fine_compute
from enforcement.models import FindingAssessment, PenaltyNotice
from enforcement.services.penalties import penalties_assess_due
from inspections.models import AuditEvent, Finding
from notifications.models import Notification
from tests.enforcement_support import violating_visit, violation
from tests.factories import EstablishmentFactory, MunicipalityFactory

pytestmark = pytest.mark.django_db

# (municipality class, size class, amount in SAR computed by hand)
HAND_COMPUTED = [
    ("A", "large", "1000.00"),
    ("A", "medium", "750.00"),
    ("A", "small", "500.00"),
    ("A", "micro", "250.00"),
    ("B", "large", "800.00"),
    ("B", "medium", "600.00"),
    ("C", "large", "600.00"),
    ("C", "micro", "150.00"),
    ("D", "large", "400.00"),
    ("D", "small", "200.00"),
    ("E", "large", "200.00"),
    ("E", "micro", "50.00"),
]


@pytest.mark.parametrize("klass,size,expected", HAND_COMPUTED)
def test_each_class_and_size(inspector, supervisor, klass, size, expected):
    serious = violation(grade="serious", grace=0)
    municipality = MunicipalityFactory(municipality_class=klass)
    _visit, finding = violating_visit(inspector=inspector, municipality=municipality, size=size)

    assert penalties_assess_due()["penalised"] == 1

    notice = PenaltyNotice.objects.get(finding=finding)
    assert notice.amount_sar == Decimal(expected)
    assert notice.reason == "serious"
    assert notice.legal_basis == serious.article
    assert notice.factors["municipality_class"] == klass and notice.factors["size_class"] == size
    assert notice.factors["amount_sar"] == expected
    assert notice.number.startswith(f"{municipality.code}-{timezone.localdate().year}-")
    assert notice.due_date == timezone.localdate() + timedelta(days=30)
    assert isinstance(notice.amount_sar, Decimal)


def test_grace_not_yet_lapsed_then_lapsed_uncorrected(inspector, supervisor, dammam):
    violation(grace=3)
    _visit, finding = violating_visit(inspector=inspector, municipality=dammam, at=timezone.now() - timedelta(days=2))

    assert penalties_assess_due() == {"penalised": 0, "corrected": 0, "not_counted": 0}
    assert not PenaltyNotice.objects.exists()

    assert penalties_assess_due(now=timezone.now() + timedelta(days=1, minutes=1))["penalised"] == 1
    notice = PenaltyNotice.objects.get(finding=finding)
    assert notice.reason == "grace_lapsed" and notice.amount_sar == Decimal("1000.00")
    assert AuditEvent.objects.filter(action="penalty.issued", object_id=str(notice.pk)).exists()
    # the visit's inspector and the municipality's supervisor are told
    assert set(Notification.objects.filter(kind="penalty_issued").values_list("recipient", flat=True)) == {
        inspector.pk,
        supervisor.pk,
    }


def test_corrected_within_grace_is_never_penalised(inspector, dammam):
    violation(grace=3)
    opened = timezone.now() - timedelta(days=5)
    _visit, finding = violating_visit(inspector=inspector, municipality=dammam, at=opened)
    Finding.objects.filter(pk=finding.pk).update(status="closed", closed_at=opened + timedelta(days=2))

    assert penalties_assess_due()["corrected"] == 1
    assert not PenaltyNotice.objects.exists()
    assert FindingAssessment.objects.get(finding=finding).result == "corrected"
    assert penalties_assess_due() == {"penalised": 0, "corrected": 0, "not_counted": 0}  # decided once


def test_corrected_after_grace_is_still_penalised(inspector, dammam):
    violation(grace=3)
    opened = timezone.now() - timedelta(days=10)
    _visit, finding = violating_visit(inspector=inspector, municipality=dammam, at=opened)
    Finding.objects.filter(pk=finding.pk).update(status="closed", closed_at=opened + timedelta(days=4))

    assert penalties_assess_due()["penalised"] == 1


def _repeat(inspector, establishment, day):
    start = timezone.now() - timedelta(days=60)
    return violating_visit(inspector=inspector, establishment=establishment, at=start + timedelta(days=day))[1]


def test_repeat_at_13_days_is_not_counted_and_at_15_days_doubles(inspector, dammam):
    violation(grade="serious", grace=0, cap="10000.00")
    shop = EstablishmentFactory(municipality=dammam)
    first = _repeat(inspector, shop, 0)
    at_13 = _repeat(inspector, shop, 13)
    at_15 = _repeat(inspector, shop, 15)

    assert penalties_assess_due() == {"penalised": 2, "corrected": 0, "not_counted": 1}

    assert PenaltyNotice.objects.get(finding=first).amount_sar == Decimal("1000.00")
    assessment = FindingAssessment.objects.get(finding=at_13)
    assert assessment.result == "not_counted" and "13 days" in assessment.explanation
    assert not PenaltyNotice.objects.filter(finding=at_13).exists()
    second = PenaltyNotice.objects.get(finding=at_15)
    assert second.repeat_step == 2 and second.repeat_factor == 2
    assert second.amount_sar == Decimal("2000.00")
    assert second.previous_notice.finding == first


def test_repeat_is_capped(inspector, dammam):
    violation(grade="serious", grace=0, cap="3000.00")
    shop = EstablishmentFactory(municipality=dammam)
    findings = [_repeat(inspector, shop, day) for day in (0, 15, 30)]

    penalties_assess_due()

    amounts = [PenaltyNotice.objects.get(finding=f).amount_sar for f in findings]
    assert amounts == [Decimal("1000.00"), Decimal("2000.00"), Decimal("3000.00")]  # 4,000 capped at 3,000
    third = PenaltyNotice.objects.get(finding=findings[2])
    assert third.capped and third.factors["uncapped_sar"] == "4000.00"


def test_repeat_outside_the_window_starts_again(inspector, dammam):
    violation(grade="serious", grace=0, window_days=30)
    shop = EstablishmentFactory(municipality=dammam)
    _repeat(inspector, shop, 0)
    late = _repeat(inspector, shop, 45)
    penalties_assess_due()
    assert PenaltyNotice.objects.get(finding=late).repeat_step == 1


def test_a_finding_whose_code_is_not_in_the_catalogue_waits(inspector, dammam):
    _visit, finding = violating_visit(inspector=inspector, municipality=dammam, code="NOT-YET")
    assert penalties_assess_due() == {"penalised": 0, "corrected": 0, "not_counted": 0}
    assert not FindingAssessment.objects.exists()


def test_amounts_are_never_float():
    with pytest.raises(TypeError):
        fine_compute(base=1000.0, class_code="A", size_class="large", step=1, multiplier=Decimal(2), cap=Decimal(9))
    result = fine_compute(
        base=Decimal("333.33"), class_code="C", size_class="medium", step=1, multiplier=Decimal(2), cap=Decimal(9999)
    )
    assert result.amount == Decimal("150.00")  # 333.33 × 0.60 × 0.75 = 149.9985 → 150.00 (half up)
