"""The inspection domain's periodic jobs (scheduled in backend/schedules.py): thin, each takes the day
and calls one service, and each is idempotent (conditional updates, dedupe keys)."""

from datetime import timedelta

from backend.celery import SCHEDULED_JOB, app
from inspections.alerts.policy import alerts_follow_ups_due, alerts_remind_rounds, alerts_weekly_summary
from inspections.domain.calendar import riyadh_today
from inspections.services.rounds import rounds_day_close


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
