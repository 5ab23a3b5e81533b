"""Racing real transactions against each other (PostgreSQL tests): every callable at the same moment,
one thread and database connection each."""

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection


def run_at_once(actions: Sequence[Callable[[], Any]], *, timeout: float = 30) -> list[Any]:
    """Start every action at the same moment (a barrier), each in its own thread with its own
    connection, and wait for them all. Returns, in order, what each returned or the exception it
    raised (the caller asserts on them)."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[Any] = [None] * len(actions)

    def run(slot: int, action: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=timeout)
            outcomes[slot] = action()
        except Exception as error:  # noqa: BLE001 - handed back to the caller
            outcomes[slot] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(slot, action)) for slot, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout * 4)
    return outcomes
