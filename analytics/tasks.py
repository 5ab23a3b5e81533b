"""Analytics' periodic job (scheduled in backend/schedules.py): thin, it calls one service."""

from analytics.rollups import rollups_flush
from backend.celery import SCHEDULED_JOB, app


@app.task(name="analytics.rollups_flush", **SCHEDULED_JOB)
def rollups_flush_task() -> int:
    """Add the visits synced since the last run to the roll-ups (settings.ROLLUPS_DEFERRED)."""
    return rollups_flush()
