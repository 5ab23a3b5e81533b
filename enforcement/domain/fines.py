"""The penalty arithmetic, pure (no ORM): Decimal in, Decimal out, every factor kept for the notice.

amount = base × class factor × size factor × multiplier^(step − 1), capped, rounded to halalas
(ROUND_HALF_UP) once at the end.

Repeat rule for the same violation at the same establishment, measured from the offence of the
last counted penalty:
- fewer than `min_days` days since it: the same violation is not counted again (no notice);
- within `window_days`: one step up from that penalty's step;
- otherwise: step 1 again.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

HALALA = Decimal("0.01")

# SAMPLE factors for the demo, labelled as such in settings and the README: a municipality sets
# its own through ENFORCEMENT_CLASS_FACTORS / ENFORCEMENT_SIZE_FACTORS.
DEFAULT_CLASS_FACTORS = {
    "A": Decimal("1.00"),
    "B": Decimal("0.80"),
    "C": Decimal("0.60"),
    "D": Decimal("0.40"),
    "E": Decimal("0.20"),
}
DEFAULT_SIZE_FACTORS = {
    "large": Decimal("1.00"),
    "medium": Decimal("0.75"),
    "small": Decimal("0.50"),
    "micro": Decimal("0.25"),
}


@dataclass(frozen=True)
class RepeatRule:
    multiplier: Decimal
    min_days: int
    window_days: int


@dataclass(frozen=True)
class PreviousPenalty:
    offence_at: datetime
    step: int


@dataclass(frozen=True)
class RepeatDecision:
    counted: bool  # False: inside the minimum interval, no new notice
    step: int
    days_since_previous: int | None
    explanation: str


def repeat_decide(*, rule: RepeatRule, previous: PreviousPenalty | None, offence_at: datetime) -> RepeatDecision:
    """Which repeat step this offence is, or that it is not counted (see the module docstring)."""
    if previous is None:
        return RepeatDecision(True, 1, None, "first penalty for this violation")
    days = (offence_at - previous.offence_at).days
    if days < rule.min_days:
        return RepeatDecision(
            False,
            previous.step,
            days,
            f"{days} days after the last penalty: inside the {rule.min_days}-day minimum, not counted again",
        )
    if days <= rule.window_days:
        return RepeatDecision(
            True, previous.step + 1, days, f"repeat {days} days after the last penalty (step {previous.step + 1})"
        )
    return RepeatDecision(
        True, 1, days, f"{days} days after the last penalty: outside the {rule.window_days}-day window"
    )


@dataclass(frozen=True)
class FineComputation:
    base: Decimal
    class_code: str
    class_factor: Decimal
    size_class: str
    size_factor: Decimal
    step: int
    repeat_factor: Decimal
    uncapped: Decimal
    cap: Decimal
    capped: bool
    amount: Decimal

    def factors(self) -> dict[str, str]:
        """Every factor as text (JSON-safe, no float ever)."""
        return {
            "base_sar": str(self.base),
            "municipality_class": self.class_code,
            "class_factor": str(self.class_factor),
            "size_class": self.size_class,
            "size_factor": str(self.size_factor),
            "repeat_step": str(self.step),
            "repeat_factor": str(self.repeat_factor),
            "uncapped_sar": str(self.uncapped),
            "cap_sar": str(self.cap),
            "capped": "yes" if self.capped else "no",
            "amount_sar": str(self.amount),
        }


def fine_compute(
    *,
    base: Decimal,
    class_code: str,
    size_class: str,
    step: int,
    multiplier: Decimal,
    cap: Decimal,
    class_factors: dict[str, Decimal] | None = None,
    size_factors: dict[str, Decimal] | None = None,
) -> FineComputation:
    """The amount of one notice with every factor (see the module docstring)."""
    for value in (base, multiplier, cap):
        if not isinstance(value, Decimal):
            raise TypeError("fine amounts are Decimal, never float")
    class_factor = (class_factors or DEFAULT_CLASS_FACTORS)[class_code]
    size_factor = (size_factors or DEFAULT_SIZE_FACTORS)[size_class]
    repeat_factor = multiplier ** (step - 1)
    uncapped = (base * class_factor * size_factor * repeat_factor).quantize(HALALA, rounding=ROUND_HALF_UP)
    capped = uncapped > cap
    amount = cap.quantize(HALALA) if capped else uncapped
    return FineComputation(
        base=base,
        class_code=class_code,
        class_factor=class_factor,
        size_class=size_class,
        size_factor=size_factor,
        step=step,
        repeat_factor=repeat_factor,
        uncapped=uncapped,
        cap=cap,
        capped=capped,
        amount=amount,
    )
