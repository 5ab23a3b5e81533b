"""Back-test of the risk score (inspections/domain/risk.py) on an inspection history.

    uv run python bench/risk_backtest.py HISTORY.csv
    uv run python bench/risk_backtest.py --wake restaurant_inspections.csv [--wake-pass 95]

HISTORY.csv has a header and three columns: `establishment` (any id), `date` (YYYY-MM-DD) and
`result` (`violation` or `compliant`); an optional `licensed_on` (YYYY-MM-DD) feeds the licence-age
factor. `--wake` reads Wake County's published restaurant inspections instead (HSISID, DATE_, SCORE,
TYPE, RESTAURANTOPENDATE): routine inspections only, a violation being a score below `--wake-pass`.

The method is the one Chicago's food-inspection evaluation used. Month by month, the inspections
that really happened that month are re-ordered by each establishment's risk as known on the 1st
(only the history before the month), and the k-th of them in risk order is given the date of the
k-th in real order (the same days, the same capacity). For each violating inspection it prints how
many days earlier it would have been found, and the ranking's AUC (the chance that a violating
inspection outranks a compliant one of the same month; 0.5 is a coin). No database: pure Python.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inspections.domain.risk import RiskInputs, risk_assess  # noqa: E402


@dataclass(frozen=True)
class Inspection:
    establishment: str
    day: date
    violation: bool


def read_history(path: Path) -> tuple[list[Inspection], dict[str, date]]:
    inspections, licensed = [], {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            inspections.append(
                Inspection(row["establishment"], date.fromisoformat(row["date"][:10]), row["result"] == "violation")
            )
            if row.get("licensed_on"):
                licensed[row["establishment"]] = date.fromisoformat(row["licensed_on"][:10])
    return inspections, licensed


def read_wake(path: Path, *, passing: float) -> tuple[list[Inspection], dict[str, date]]:
    inspections, licensed = [], {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            if row.get("TYPE") != "Inspection" or not row.get("SCORE"):
                continue
            inspections.append(
                Inspection(row["HSISID"], date.fromisoformat(row["DATE_"][:10]), float(row["SCORE"]) < passing)
            )
            opened = (row.get("RESTAURANTOPENDATE") or "")[:10].replace("/", "-")
            if len(opened) == 10 and opened[:4].isdigit():
                licensed[row["HSISID"]] = date.fromisoformat(opened)
    return inspections, licensed


def _auc(scored: list[tuple[float, bool]]) -> tuple[float, int]:
    """Mann-Whitney AUC with ties counted half, and the number of (violating, compliant) pairs."""
    positives = [score for score, violation in scored if violation]
    negatives = [score for score, violation in scored if not violation]
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    pairs = len(positives) * len(negatives)
    return (wins / pairs if pairs else float("nan")), pairs


def backtest(inspections: list[Inspection], licensed: dict[str, date]) -> dict:
    by_month: dict[tuple[int, int], list[Inspection]] = defaultdict(list)
    for inspection in inspections:
        by_month[(inspection.day.year, inspection.day.month)].append(inspection)
    history: dict[str, list[Inspection]] = defaultdict(list)
    days_earlier: list[int] = []
    auc_wins, auc_pairs, months = 0.0, 0, 0
    for year, month in sorted(by_month):
        start = date(year, month, 1)
        real = sorted(by_month[(year, month)], key=lambda i: (i.day, i.establishment))
        if history:  # the first month has no history to rank by
            scored = []
            for inspection in real:
                past = history.get(inspection.establishment, [])
                inputs = RiskInputs(
                    violations=[("major", i.day) for i in past if i.violation],
                    last_inspection=past[-1].day if past else None,
                    licensed_on=licensed.get(inspection.establishment),
                )
                scored.append((risk_assess(inputs, today=start).score, inspection))
            ranked = sorted(scored, key=lambda pair: (-pair[0], pair[1].day, pair[1].establishment))
            for slot, (_score, inspection) in zip(real, ranked, strict=True):
                if inspection.violation:
                    days_earlier.append((inspection.day - slot.day).days)
            auc, pairs = _auc([(score, inspection.violation) for score, inspection in scored])
            if pairs:
                auc_wins += auc * pairs
                auc_pairs += pairs
                months += 1
        for inspection in real:
            history[inspection.establishment].append(inspection)
    return {
        "inspections": len(inspections),
        "violating": sum(i.violation for i in inspections),
        "months_ranked": months,
        "mean_days_earlier": statistics.fmean(days_earlier) if days_earlier else float("nan"),
        "median_days_earlier": statistics.median(days_earlier) if days_earlier else float("nan"),
        "auc": auc_wins / auc_pairs if auc_pairs else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--wake", action="store_true", help="read Wake County's restaurant_inspections.csv")
    parser.add_argument("--wake-pass", type=float, default=95.0, help="Wake scores below this are violations")
    args = parser.parse_args(argv)
    inspections, licensed = read_wake(args.path, passing=args.wake_pass) if args.wake else read_history(args.path)
    if not inspections:
        print("no inspections in the file", file=sys.stderr)
        return 1
    figures = backtest(inspections, licensed)
    print(
        f"inspections {figures['inspections']}, violating {figures['violating']}, "
        f"months ranked {figures['months_ranked']}"
    )
    print(
        f"violating inspections found earlier in risk order: mean {figures['mean_days_earlier']:.1f} days, "
        f"median {figures['median_days_earlier']:.1f} days (baseline: the real order, 0)"
    )
    print(f"ranking AUC {figures['auc']:.3f} (baseline: a random order, 0.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
