"""Risk that explains itself: a transparent scored model, pure (no ORM), unit-tested without a database.

An establishment's score (0-100) is the sum of five factors, each a number in [0, 1] times its
weight (the weights add up to 100):

- past violations by severity and recency: each failed item counts its severity weight
  (minor 1, major 3, critical 8), halved every VIOLATION_HALF_LIFE_DAYS; the sum s becomes
  1 - exp(-s / 6), so two recent majors give about 0.6 and a recent critical about 0.75;
- time since the last inspection: days / 365, capped at 1 (never inspected: 1);
- category: the violation rate of the establishment's category (share of visits with a violation);
- licence age: 1 for a new licence, falling linearly to 0 at two years;
- open findings: open / 3, capped at 1.

Other apps may add factors of their own (settings.RISK_EXTRA_FACTORS, read by the risk selector, so
inspections imports none of them): each brings points, capped at EXTRA_FACTOR_MAX_POINTS, added on top
of the five; the score stays capped at 100 (`with_extra_factors`). The stored score of
inspections.services.findings adds the same points (`extra_points`).

Every factor is returned with its raw value, weight and points, so a queue can say *why* a shop is
due. The weights are a judgement, not a fit; bench/risk_backtest.py measures how well they rank.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

SEVERITY_WEIGHT = {"minor": 1.0, "major": 3.0, "critical": 8.0}
VIOLATION_HALF_LIFE_DAYS = 180.0
WEIGHTS = {
    "violations": 40.0,
    "time_since_inspection": 20.0,
    "category": 15.0,
    "licence_age": 10.0,
    "open_findings": 15.0,
}
LICENCE_AGE_DAYS = 730.0
EXTRA_FACTOR_MAX_POINTS = 10.0
MAX_SCORE = 100.0

HIGH = "high"
MEDIUM = "medium"
LOW = "low"


@dataclass(frozen=True)
class Factor:
    name: str
    value: float  # the raw measure (a count, days, a rate)
    share: float  # the measure mapped to [0, 1]
    weight: float
    points: float  # share * weight


@dataclass(frozen=True)
class RiskInputs:
    violations: Iterable[tuple[str, date]] = field(default_factory=tuple)  # (severity, day) of each failed item
    last_inspection: date | None = None
    category_rate: float | None = None
    licensed_on: date | None = None
    open_findings: int = 0


@dataclass(frozen=True)
class RiskAssessment:
    score: float
    factors: list[Factor]


def _factor(name: str, value: float, share: float) -> Factor:
    share = min(max(share, 0.0), 1.0)
    return Factor(
        name=name, value=round(value, 3), share=round(share, 4), weight=WEIGHTS[name], points=share * WEIGHTS[name]
    )


def violation_weight(violations: Iterable[tuple[str, date]], *, today: date) -> float:
    """Severity-weighted count of past failed items, each halved every VIOLATION_HALF_LIFE_DAYS."""
    total = 0.0
    for severity, day in violations:
        age = max((today - day).days, 0)
        total += SEVERITY_WEIGHT.get(severity, 1.0) * 0.5 ** (age / VIOLATION_HALF_LIFE_DAYS)
    return total


def risk_assess(inputs: RiskInputs, *, today: date) -> RiskAssessment:
    """The score and its factors, from what was known on `today`."""
    weight = violation_weight(inputs.violations, today=today)
    factors = [_factor("violations", weight, 1.0 - math.exp(-weight / 6.0))]
    if inputs.last_inspection is None:
        factors.append(_factor("time_since_inspection", -1, 1.0))
    else:
        days = max((today - inputs.last_inspection).days, 0)
        factors.append(_factor("time_since_inspection", days, days / 365.0))
    rate = inputs.category_rate or 0.0
    factors.append(_factor("category", rate, rate))
    if inputs.licensed_on is None:
        factors.append(_factor("licence_age", -1, 0.0))
    else:
        age = max((today - inputs.licensed_on).days, 0)
        factors.append(_factor("licence_age", age, 1.0 - age / LICENCE_AGE_DAYS))
    factors.append(_factor("open_findings", inputs.open_findings, inputs.open_findings / 3.0))
    score = round(sum(factor.points for factor in factors), 2)
    return RiskAssessment(score=score, factors=factors)


def extra_factor(name: str, raw: float) -> Factor:
    """One factor of another app: its points, capped at EXTRA_FACTOR_MAX_POINTS (the one rule for
    both the ranked queue's score and the stored `Establishment.risk_score`)."""
    raw = max(float(raw or 0.0), 0.0)
    share = min(raw / EXTRA_FACTOR_MAX_POINTS, 1.0)
    return Factor(
        name=name,
        value=round(raw, 3),
        share=round(share, 4),
        weight=EXTRA_FACTOR_MAX_POINTS,
        points=share * EXTRA_FACTOR_MAX_POINTS,
    )


def extra_points(extra: dict[str, float]) -> float:
    """The points other apps' factors add (each capped): what the stored risk score adds too."""
    return sum(extra_factor(name, raw).points for name, raw in extra.items())


def with_extra_factors(assessment: RiskAssessment, extra: dict[str, float]) -> RiskAssessment:
    """The assessment with other apps' factors added: `extra` maps a factor's name to its points
    (e.g. confirmed public reports), each capped at EXTRA_FACTOR_MAX_POINTS; the score at MAX_SCORE."""
    factors = list(assessment.factors) + [extra_factor(name, raw) for name, raw in sorted(extra.items())]
    score = round(min(sum(factor.points for factor in factors), MAX_SCORE), 2)
    return RiskAssessment(score=score, factors=factors)


def risk_class(score: float, *, high: float, medium: float) -> str:
    if score >= high:
        return HIGH
    if score >= medium:
        return MEDIUM
    return LOW
