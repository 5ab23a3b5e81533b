"""Penalties computed, not typed.

A finding whose checklist item names a catalogue code is *confirmed* when
- its violation is graded serious: at once (the next sweep, within a minute of the sync), or
- its grace period lapsed and it is still open (not corrected by a later passing visit).
A finding corrected within its grace period is assessed "corrected" and never penalised.

A confirmed finding gets a PenaltyNotice (number, legal basis, amount with every factor, payment
due date, objection deadline) unless the same violation at the same establishment was penalised
fewer than `repeat_min_days` days before this offence (assessed "not counted"). Each decision is a
FindingAssessment, so the sweep never looks at a finding twice.

The sweep (`penalties_assess_due`) is run by the periodic task enforcement.sweep; inspections calls
nothing of enforcement. An issued notice sends `enforcement.signals.penalty_issued` in its transaction.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from enforcement.domain.fines import (
    DEFAULT_CLASS_FACTORS,
    DEFAULT_SIZE_FACTORS,
    PreviousPenalty,
    RepeatRule,
    fine_compute,
    repeat_decide,
)
from enforcement.models import FindingAssessment, PenaltyNotice, ViolationType
from enforcement.services.notify import notify_penalty_issued
from enforcement.signals import penalty_issued
from inspections.models import Finding, Municipality
from inspections.services.audit import audit_record


def _factors(name: str, defaults: dict[str, Decimal]) -> dict[str, Decimal]:
    configured = getattr(settings, name, None) or {}
    return {**defaults, **{key: Decimal(str(value)) for key, value in configured.items()}}


def class_factors() -> dict[str, Decimal]:
    return _factors("ENFORCEMENT_CLASS_FACTORS", DEFAULT_CLASS_FACTORS)


def size_factors() -> dict[str, Decimal]:
    return _factors("ENFORCEMENT_SIZE_FACTORS", DEFAULT_SIZE_FACTORS)


def _candidates(*, now: datetime):
    """Open or closed findings without an assessment whose item names a catalogue code (never those
    of imported history: the past is recorded, not penalised)."""
    return (
        Finding.objects.filter(assessment__isnull=True, visit__imported__isnull=True)
        .exclude(answer__item__violation_code="")
        .select_related("answer__item", "establishment", "municipality", "visit")
        .order_by("opened_at", "id")
    )


def penalties_assess_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Assess every finding that is due: serious at once, others when their grace period lapsed."""
    now = now or timezone.now()
    counts = {"penalised": 0, "corrected": 0, "not_counted": 0}
    catalogue = {violation.code: violation for violation in ViolationType.objects.all()}
    for finding in _candidates(now=now)[:limit]:
        violation = catalogue.get(finding.answer.item.violation_code)
        if violation is None:
            continue  # a code the catalogue does not have (yet): assessed once it is imported
        result = finding_assess(finding_id=finding.pk, violation_id=violation.pk, now=now)
        if result is not None:
            counts[result] += 1
    return counts


def _grace_end(finding: Finding, violation: ViolationType) -> datetime:
    return finding.opened_at + timedelta(days=violation.grace_days)


@transaction.atomic
def finding_assess(*, finding_id: int, violation_id: int, now: datetime) -> str | None:
    """Decide one finding (idempotent: an assessed finding is left alone). Returns the result or None
    when it is not due yet."""
    finding = (
        Finding.objects.select_related("establishment", "municipality", "visit", "answer__item")
        .filter(pk=finding_id, assessment__isnull=True)
        .first()
    )
    if finding is None:
        return None
    violation = ViolationType.objects.get(pk=violation_id)
    serious = violation.grade == ViolationType.Grade.SERIOUS
    grace_end = _grace_end(finding, violation)
    if not serious:
        corrected = finding.status == Finding.Status.CLOSED and finding.closed_at and finding.closed_at <= grace_end
        if corrected:
            return _assessment(
                finding, violation, FindingAssessment.Result.CORRECTED, now, "corrected within the grace period"
            )
        if now < grace_end:
            return None
    # Serialise notices of one municipality (their numbers) and of one establishment (the repeat rule).
    Municipality.objects.select_for_update().filter(pk=finding.municipality_id).first()
    previous = (
        PenaltyNotice.objects.filter(establishment_id=finding.establishment_id, violation=violation)
        .exclude(status=PenaltyNotice.Status.CANCELLED)
        .filter(offence_at__lte=finding.opened_at)
        .order_by("-offence_at", "-id")
        .first()
    )
    rule = RepeatRule(
        multiplier=violation.repeat_multiplier,
        min_days=violation.repeat_min_days,
        window_days=violation.repeat_window_days,
    )
    decision = repeat_decide(
        rule=rule,
        previous=PreviousPenalty(previous.offence_at, previous.repeat_step) if previous else None,
        offence_at=finding.opened_at,
    )
    if not decision.counted:
        return _assessment(
            finding, violation, FindingAssessment.Result.NOT_COUNTED, now, decision.explanation, notice=previous
        )
    computation = fine_compute(
        base=violation.fine_max_sar,
        class_code=finding.municipality.municipality_class,
        size_class=finding.establishment.size_class,
        step=decision.step,
        multiplier=violation.repeat_multiplier,
        cap=violation.cap_sar,
        class_factors=class_factors(),
        size_factors=size_factors(),
    )
    today = timezone.localdate(now)
    factors = {
        **computation.factors(),
        "fine_range_sar": f"{violation.fine_min_sar}-{violation.fine_max_sar}",
        "repeat": decision.explanation,
        "previous_notice": previous.number if previous and decision.step > 1 else "",
        "grace_days": str(violation.grace_days),
    }
    notice = PenaltyNotice.objects.create(
        number=_next_number(finding.municipality, today.year),
        finding=finding,
        visit=finding.visit,
        establishment=finding.establishment,
        municipality=finding.municipality,
        violation=violation,
        legal_basis=violation.article,
        reason=PenaltyNotice.Reason.SERIOUS if serious else PenaltyNotice.Reason.GRACE_LAPSED,
        base_sar=computation.base,
        class_factor=computation.class_factor,
        size_factor=computation.size_factor,
        repeat_step=computation.step,
        repeat_factor=computation.repeat_factor,
        capped=computation.capped,
        factors=factors,
        original_amount_sar=computation.amount,
        amount_sar=computation.amount,
        previous_notice=previous if decision.step > 1 else None,
        closure_days=violation.closure_days,
        licence_suspension_days=violation.licence_suspension_days,
        offence_at=finding.opened_at,
        issued_at=now,
        due_date=today + timedelta(days=settings.ENFORCEMENT_PAYMENT_DAYS),
        objection_deadline=today + timedelta(days=settings.ENFORCEMENT_OBJECTION_DAYS),
    )
    _assessment(finding, violation, FindingAssessment.Result.PENALISED, now, decision.explanation, notice=notice)
    audit_record(
        actor=None,
        action="penalty.issued",
        target=notice,
        municipality_id=notice.municipality_id,
        details={"number": notice.number, "finding_id": finding.pk, "amount_sar": str(notice.amount_sar)},
    )
    notify_penalty_issued(notice=notice)
    penalty_issued.send(sender=PenaltyNotice, notice=notice)
    return FindingAssessment.Result.PENALISED


def _assessment(finding, violation, result, now, explanation, notice=None) -> str:
    FindingAssessment.objects.create(
        finding=finding, violation=violation, result=result, notice=notice, explanation=explanation, assessed_at=now
    )
    if result != FindingAssessment.Result.PENALISED:
        audit_record(
            actor=None,
            action=f"finding.{result}",
            target=finding,
            municipality_id=finding.municipality_id,
            details={"violation": violation.code, "explanation": explanation},
        )
    return result


def _next_number(municipality: Municipality, year: int) -> str:
    """MUNICIPALITY-YEAR-NNNNNN, consecutive per municipality and year (the caller holds the row lock)."""
    prefix = f"{municipality.code}-{year}-"
    last = (
        PenaltyNotice.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{sequence:06d}"


def notices_total(*, visit_id: int) -> Decimal:
    """What the visit's notices amount to now (after objection decisions)."""
    total = Decimal("0.00")
    for amount in PenaltyNotice.objects.filter(visit_id=visit_id).values_list("amount_sar", flat=True):
        total += amount
    return total
