"""The answer rule, pure: which values a checklist answer may hold, and whether a value fails its item."""

import math

NUMBER_LIMIT = 1e15  # beyond any measurement an item records; well inside float precision


def bounded_answer_value(value):
    """Refuse numbers that are not finite or lie beyond ±NUMBER_LIMIT (a pydantic validator).

    Python reads a 4,001-digit JSON integer exactly; turning it into a float (to compare it with an
    item's limits) raised OverflowError deep in the sync: a 500 that sank the whole batch."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, int):
        if abs(value) > NUMBER_LIMIT:
            raise ValueError(f"Numbers must lie within ±{NUMBER_LIMIT:.0e}.")
        return value
    if not math.isfinite(value) or abs(value) > NUMBER_LIMIT:
        raise ValueError(f"Numbers must be finite and lie within ±{NUMBER_LIMIT:.0e}.")
    return value


# The answer types of `ChecklistItem.AnswerType`, spelled here so the rule needs no model.
YES_NO_NA, NUMBER, CHOICE = "yes_no_na", "number", "choice"
YES_NO_NA_VALUES = frozenset({"yes", "no", "na"})


def answer_failed(item, value) -> bool | None:
    """The one pass/fail rule: whether `value` fails `item`; None when it does not fit the answer type.

    `item` is anything with `answer_type`, `choices`, `failing_choices`, `min_value` and `max_value`
    (a ChecklistItem or the visit sync's prefetched ItemInfo). yes/no/na fails on "no"; a number
    fails outside [min_value, max_value]; a choice fails on any of `failing_choices`.
    """
    if item.answer_type == YES_NO_NA:
        if not isinstance(value, str) or value not in YES_NO_NA_VALUES:
            return None
        return value == "no"
    if item.answer_type == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return None
        return (item.min_value is not None and value < item.min_value) or (
            item.max_value is not None and value > item.max_value
        )
    if item.answer_type == CHOICE:
        if not isinstance(value, str) or value not in (item.choices or ()):
            return None
        return value in (item.failing_choices or ())
    return None
