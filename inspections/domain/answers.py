"""The answer rule's pure part: which values a checklist answer may hold."""

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
