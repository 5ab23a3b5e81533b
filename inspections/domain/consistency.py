"""Inspector consistency by indirect standardisation, pure.

For one inspector: O = visits with a violation; E = the sum over their visits of the violation rate
of the visit's stratum (category) among all visits of the reference population. The ratio O/E
(like a standardised incidence ratio) says whether they find more or fewer violations than the mix
of shops they visited predicts. The 95% interval treats O as Poisson (Byar's approximation).
A quality signal for supervisors, never a target.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

Z95 = 1.959964


@dataclass(frozen=True)
class Consistency:
    visits: int
    observed: int
    expected: float
    ratio: float | None
    low: float | None
    high: float | None

    @property
    def signal(self) -> str:
        """ "higher"/"lower" when the interval excludes 1, else "as_expected"."""
        if self.low is not None and self.low > 1:
            return "higher"
        if self.high is not None and self.high < 1:
            return "lower"
        return "as_expected"


def poisson_interval(observed: int, *, z: float = Z95) -> tuple[float, float]:
    """Byar's approximation to the exact Poisson interval for a count."""
    low = 0.0 if observed == 0 else observed * (1 - 1 / (9 * observed) - z / (3 * math.sqrt(observed))) ** 3
    upper = observed + 1
    high = upper * (1 - 1 / (9 * upper) + z / (3 * math.sqrt(upper))) ** 3
    return low, high


def standardise(visits: Iterable[tuple[str, bool]], rates: dict[str, float]) -> Consistency:
    """`visits`: (stratum, had a violation) of one inspector; `rates`: the reference rate per stratum."""
    count = observed = 0
    expected = 0.0
    for stratum, violation in visits:
        count += 1
        observed += bool(violation)
        expected += rates.get(stratum, 0.0)
    if expected <= 0:
        return Consistency(visits=count, observed=observed, expected=expected, ratio=None, low=None, high=None)
    low, high = poisson_interval(observed)
    return Consistency(
        visits=count,
        observed=observed,
        expected=round(expected, 3),
        ratio=round(observed / expected, 3),
        low=round(low / expected, 3),
        high=round(high / expected, 3),
    )
