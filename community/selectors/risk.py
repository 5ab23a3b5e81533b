"""A factor the establishment risk code can read: confirmed public reports raise an establishment's risk.

`confirmed_report_factor(establishment_ids)` → {establishment_id: points}. Each case closed by an
inspection that found a violation adds CONFIRMED_REPORT_POINTS, halving every 90 days like a closed
finding. The risk code (inspections) can read it through the dotted path in
settings.RISK_EXTRA_FACTORS without importing this app: the ranked queue and the planner
(inspections.selectors.risk) and the stored Establishment.risk_score
(inspections.services.findings.establishments_risk_refresh, at the sync that closes the case and again
when community's reconciler announces it) add the same capped points.
"""

from __future__ import annotations

from collections import defaultdict

from django.utils import timezone

from community.selectors.cases import confirmed_cases

CONFIRMED_REPORT_POINTS = 2.0
HALF_LIFE_DAYS = 90.0


def confirmed_report_factor(establishment_ids) -> dict[int, float]:
    now = timezone.now()
    points: dict[int, float] = defaultdict(float)
    for establishment_id, received in (
        confirmed_cases()
        .filter(establishment_id__in=list(establishment_ids))
        .values_list("establishment_id", "visit_received_at")
    ):
        age_days = max((now - received).total_seconds() / 86400.0, 0.0)
        points[establishment_id] += CONFIRMED_REPORT_POINTS * 2 ** (-age_days / HALF_LIFE_DAYS)
    return {pk: round(value, 2) for pk, value in points.items()}
