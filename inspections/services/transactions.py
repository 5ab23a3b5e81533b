"""Running a transaction again when PostgreSQL chose it as the loser of a deadlock or a
serialisation conflict: the whole transaction was rolled back, so an idempotent one is simply
run again (a few times, with a short pause)."""

import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection

T = TypeVar("T")
DEADLOCK_RETRIES = 3
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


def is_retryable(error: OperationalError) -> bool:
    return getattr(getattr(error, "__cause__", None), "sqlstate", None) in RETRYABLE_SQLSTATES


def retry_on_deadlock(run: Callable[[], T], *, attempts: int = DEADLOCK_RETRIES) -> T:
    """`run()` (which opens its own transaction), again after a deadlock or serialisation failure.

    Inside an outer transaction there is nothing to retry (the outer one is already doomed), so it
    runs once."""
    attempts = 1 if connection.in_atomic_block else attempts
    for attempt in range(1, attempts + 1):
        try:
            return run()
        except OperationalError as error:
            if attempt == attempts or not is_retryable(error):
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")
