"""bench/risk_backtest.py on small generated histories (never on ../shared): in a world where the
shops that violated before violate again, risk order finds them earlier and ranks them above
compliant shops; the CLI reads the documented CSV."""

import csv
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from bench.risk_backtest import Inspection, backtest

ROOT = Path(__file__).resolve().parent.parent


def _predictable_world() -> list[Inspection]:
    """Twenty shops inspected every month for a year; shops 0-4 always violate, the rest never.
    Within a month the real order puts the violators last, so risk order can only move them earlier."""
    inspections = []
    for month in range(1, 13):
        for rank, shop in enumerate([*range(5, 20), *range(5)]):
            day = date(2025, month, 1) + timedelta(days=rank)
            inspections.append(Inspection(f"shop-{shop}", day, violation=shop < 5))
    return inspections


def test_risk_order_finds_repeat_violators_earlier():
    figures = backtest(_predictable_world(), {})
    assert figures["months_ranked"] == 11
    assert figures["auc"] == 1.0  # from the second month on, every violator outranks every compliant shop
    # In each ranked month the 5 violators move from days 15-19 of the month to days 0-4: 15 days earlier.
    assert figures["mean_days_earlier"] == 15.0


def test_the_cli_reads_the_documented_csv(tmp_path):
    path = tmp_path / "history.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["establishment", "date", "result"])
        for inspection in _predictable_world():
            writer.writerow(
                [
                    inspection.establishment,
                    inspection.day.isoformat(),
                    "violation" if inspection.violation else "compliant",
                ]
            )
    out = subprocess.run(
        [sys.executable, "bench/risk_backtest.py", str(path)], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "inspections 240, violating 60, months ranked 11" in out
    assert "ranking AUC 1.000" in out
