"""The shared cache where it is only a shortcut (cached scopes, the published-version map): when the
cache server cannot be reached, the caller computes the value from the database instead of failing
the request, so a Redis outage costs speed, not availability."""

import logging
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


def cache_quietly(operation: Callable[[], T], default: T) -> T:
    """`operation()`, or `default` (logged once per failure) if the cache server fails."""
    try:
        return operation()
    except Exception as error:  # noqa: BLE001 - any backend error (redis, file system) is a miss
        log.warning("cache unavailable, reading from the database: %s", error)
        return default
