"""The inspection domain's periodic jobs (scheduled in backend/schedules.py): thin, each takes the day
and calls one service, and each is idempotent (conditional updates, dedupe keys)."""

import logging
from datetime import timedelta
from functools import partial

from django.db import transaction
from kombu.exceptions import OperationalError

from backend.celery import SCHEDULED_JOB, app
from inspections.alerts.policy import alerts_follow_ups_due, alerts_remind_rounds, alerts_weekly_summary
from inspections.domain.calendar import riyadh_today
from inspections.services.rounds import rounds_day_close
from inspections.services.rounds.follow_ups import FOLLOW_UP_SWEEP_AFTER, follow_ups_place_pending

logger = logging.getLogger(__name__)


@app.task(name="inspections.morning_reminders", **SCHEDULED_JOB)
def morning_reminders() -> int:
    return alerts_remind_rounds(day=riyadh_today())


@app.task(name="inspections.close_day", **SCHEDULED_JOB)
def close_day() -> int:
    """Close today's rounds (pending stops become missed) and tell supervisors about the open stops."""
    return rounds_day_close(day=riyadh_today())


@app.task(name="inspections.follow_ups_due", **SCHEDULED_JOB)
def follow_ups_due() -> int:
    return alerts_follow_ups_due(day=riyadh_today())


@app.task(name="inspections.weekly_summary", **SCHEDULED_JOB)
def weekly_summary() -> int:
    return alerts_weekly_summary(day=riyadh_today() - timedelta(days=1))


@app.task(name="inspections.plans_draft_weekly", **SCHEDULED_JOB)
def draft_next_weeks() -> list[int]:
    """Draft next week where a municipality turned weekly_auto on (a second run drafts nothing)."""
    from inspections.services.planning import plans_draft_weekly

    return [plan.pk for plan in plans_draft_weekly()]


@app.task(name="inspections.follow_ups_place", **SCHEDULED_JOB)
def follow_ups_place(pending_ids: list[int]) -> int:
    """Place the follow-ups a visit sync just recorded (queued on its commit)."""
    return follow_ups_place_pending(ids=pending_ids)


@app.task(name="inspections.follow_ups_sweep", **SCHEDULED_JOB)
def follow_ups_sweep() -> int:
    """Place every recorded follow-up older than FOLLOW_UP_SWEEP_AFTER: those whose task was lost
    (a crash between commit and queueing, a broker outage). Runs every minute; nothing is lost."""
    placed = total = follow_ups_place_pending(older_than=FOLLOW_UP_SWEEP_AFTER)
    while placed:  # in batches, each its own transaction
        placed = follow_ups_place_pending(older_than=FOLLOW_UP_SWEEP_AFTER)
        total += placed
    return total


@app.task(name="inspections.risk_flush", **SCHEDULED_JOB)
def risk_flush() -> int:
    """Recompute the risk scores the visit syncs since the last run listed (settings.RISK_DEFERRED)."""
    from inspections.services.findings import establishments_risk_flush  # findings queues tasks from here

    return establishments_risk_flush()


def _follow_ups_queue(pending_ids: list[int]) -> None:
    try:
        follow_ups_place.delay(pending_ids)
    except (OperationalError, ConnectionError, OSError) as error:
        logger.warning("could not queue follow-up placement (%s); the sweeper will place them", error)


def follow_ups_place_on_commit(pending_ids: list[int]) -> None:
    """Queue the placement once the caller's transaction commits (never fails the caller)."""
    if pending_ids:
        transaction.on_commit(partial(_follow_ups_queue, pending_ids))


@app.task(name="inspections.history_import")
def history_import(import_id: int) -> int:
    """Write a queued history import (one transaction; a finished import is not written twice)."""
    from inspections.services.history import history_import_run

    return history_import_run(import_id=import_id).imported
