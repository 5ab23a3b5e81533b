"""Volunteers' track records and the reward report (computed and exported, never paid by Jawla).

Track record = reports whose case was closed by an inspection that found a violation ("confirmed"),
over reports whose case was closed or dismissed ("decided"). Reward = VOLUNTEER_REWARD_SHARE of the
fines the closing visit led to, split equally among the case's volunteers. A fine is what the
enforcement app's penalty notices of that visit amount to *now* (`PenaltyNotice.amount_sar`, Decimal):
an objection decision moves it (cancelled: 0, reduced: the reduced amount, upheld: unchanged); a
finding with no notice (corrected in its grace period, not counted, not yet assessed) led to no fine.
Staff and municipal users (anyone with a membership) are excluded from the reward report; their
share of a case is not paid to the others.

community → enforcement is one way: enforcement never imports community (tests/test_architecture_imports.py).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Sum

from backend.csv_cells import csv_text_cell
from community.models import Report, Volunteer
from community.selectors.cases import CLOSED, DISMISSED, public_cases
from enforcement.models import PenaltyNotice


@dataclass(frozen=True)
class TrackRecord:
    reports: int
    decided: int
    confirmed: int

    @property
    def share_confirmed(self) -> float | None:
        return round(self.confirmed / self.decided, 3) if self.decided else None


def track_records(volunteer_ids) -> dict[int, TrackRecord]:
    states = {
        case.pk: (case.state, case.visit_violations or 0)
        for case in public_cases().filter(reports__volunteer_id__in=list(volunteer_ids)).distinct()
    }
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    seen = set()
    for volunteer_id, case_id in Report.objects.filter(volunteer_id__in=list(volunteer_ids)).values_list(
        "volunteer_id", "case_id"
    ):
        if (volunteer_id, case_id) in seen:  # several reports of one case count once
            continue
        seen.add((volunteer_id, case_id))
        state, violations = states.get(case_id, ("new", 0))
        row = counts[volunteer_id]
        row[0] += 1
        if state in (CLOSED, DISMISSED):
            row[1] += 1
        if state == CLOSED and violations > 0:
            row[2] += 1
    return {pk: TrackRecord(*counts[pk]) for pk in volunteer_ids}


@dataclass(frozen=True)
class RewardRow:
    volunteer_id: int
    username: str
    confirmed_cases: int
    fines_sar: Decimal
    reward_sar: Decimal


def rewards(*, since: datetime, until: datetime) -> list[RewardRow]:
    """Rewards for cases closed (visit received) in [since, until)."""
    share = Decimal(str(settings.VOLUNTEER_REWARD_SHARE))
    cases = list(
        public_cases()
        .filter(state=CLOSED, visit_violations__gt=0, visit_received_at__gte=since, visit_received_at__lt=until)
        .values_list("id", "visit_id")
    )
    fines = dict(
        PenaltyNotice.objects.filter(visit_id__in=[visit_id for _case, visit_id in cases])
        .values("visit_id")
        .annotate(total=Sum("amount_sar"))
        .values_list("visit_id", "total")
    )
    eligible = {
        volunteer.pk: volunteer
        for volunteer in Volunteer.objects.select_related("user").filter(
            user__is_staff=False, user__is_superuser=False, user__membership__isnull=True
        )
    }
    per_case = defaultdict(set)
    for case_id, volunteer_id in Report.objects.filter(
        case_id__in=[case_id for case_id, _visit in cases], volunteer_id__isnull=False
    ).values_list("case_id", "volunteer_id"):
        per_case[case_id].add(volunteer_id)
    totals: dict[int, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for case_id, visit_id in cases:
        volunteers = per_case.get(case_id, set())
        if not volunteers:
            continue
        case_fines = fines.get(visit_id) or Decimal(0)
        portion = case_fines * share / len(volunteers)
        for volunteer_id in volunteers & set(eligible):
            row = totals[volunteer_id]
            row[0] += 1
            row[1] += case_fines
            row[2] += portion
    cent = Decimal("0.01")
    return [
        RewardRow(
            volunteer_id=pk,
            username=eligible[pk].user.get_username(),
            confirmed_cases=row[0],
            fines_sar=row[1].quantize(cent, ROUND_HALF_UP),
            reward_sar=row[2].quantize(cent, ROUND_HALF_UP),
        )
        for pk, row in sorted(totals.items())
    ]


def rewards_csv(rows: list[RewardRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["volunteer_id", "username", "confirmed_cases", "fines_sar", "reward_sar"])
    for row in rows:
        username = csv_text_cell(row.username)  # "+1", "-x", "@x" are valid usernames and spreadsheet formulas
        writer.writerow([row.volunteer_id, username, row.confirmed_cases, row.fines_sar, row.reward_sar])
    return ("\ufeff" + buffer.getvalue()).encode()  # UTF-8 with BOM, as the other exports (Excel)
