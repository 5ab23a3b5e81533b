"""Every periodic job of every app, in one table, registered in django-celery-beat's tables (beat runs
the DatabaseScheduler).

`schedules_setup()` is idempotent (rows are matched by name and updated in place); the
notifications migration 0003 runs it on `migrate` (and the inspections migration 0007 renames the
rows of the jobs that moved to the inspections app), so `make run`, a fresh deployment and the test
database all have the schedules. Times are in Asia/Riyadh. Run it again after changing this table:
`python manage.py shell -c "from backend.schedules import schedules_setup; schedules_setup()"`.
"""

TIME_ZONE = "Asia/Riyadh"

# name: (task, crontab fields minute, hour, day_of_week) or (task, every N seconds)
SCHEDULES: dict[str, tuple] = {
    "notifications: outbox sweeper": ("notifications.sweep", {"every": 60}),
    "inspections: follow-ups waiting for placement": ("inspections.follow_ups_sweep", {"every": 60}),
    "inspections: morning reminder of today's round": (
        "inspections.morning_reminders",
        {"minute": "30", "hour": "6", "day_of_week": "*"},
    ),
    "inspections: follow-ups due today": (
        "inspections.follow_ups_due",
        {"minute": "0", "hour": "7", "day_of_week": "*"},
    ),
    "inspections: end of day, close rounds, stops still open": (
        "inspections.close_day",
        {"minute": "0", "hour": "20", "day_of_week": "*"},
    ),
    # The Saudi working week starts on Sunday: leadership reads last week's summary that morning.
    "inspections: weekly summary to leadership": (
        "inspections.weekly_summary",
        {"minute": "0", "hour": "8", "day_of_week": "0"},
    ),
    # Deferred roll-ups (settings.ROLLUPS_DEFERRED): the visits synced since the last run are added to
    # the analytics roll-ups; the bound on how stale leadership's figures can be (docs/analytics.md).
    "analytics: roll-ups of the visits just synced": ("analytics.rollups_flush", {"every": 5}),
    # Deferred risk scores (settings.RISK_DEFERRED): the establishments whose findings changed since the
    # last run get their stored risk score recomputed.
    "inspections: risk scores of establishments just inspected": ("inspections.risk_flush", {"every": 5}),
    "community: webhook events from inspections, cases reconciled": ("community.collect", {"every": 30}),
    "community: webhook outbox sweeper": ("community.sweep_webhooks", {"every": 60}),
    # Wednesday morning: a draft of next week for every municipality that turned weekly_auto on,
    # so its supervisor has Wednesday and Thursday to review and publish it.
    "planning: draft next week": (
        "inspections.plans_draft_weekly",
        {"minute": "0", "hour": "9", "day_of_week": "3"},
    ),
}


def schedules_setup(apps=None) -> list[str]:
    """Create or update every periodic task above; `apps` is given by a migration."""
    if apps is None:
        from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask
    else:
        CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")  # noqa: N806
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")  # noqa: N806
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")  # noqa: N806
    names = []
    for name, (task, when) in SCHEDULES.items():
        fields = {"task": task, "enabled": True, "interval": None, "crontab": None}
        if "every" in when:
            fields["interval"], _ = IntervalSchedule.objects.get_or_create(every=when["every"], period="seconds")
        else:
            fields["crontab"], _ = CrontabSchedule.objects.get_or_create(
                minute=when["minute"],
                hour=when["hour"],
                day_of_week=when["day_of_week"],
                day_of_month="*",
                month_of_year="*",
                timezone=TIME_ZONE,
            )
        PeriodicTask.objects.update_or_create(name=name, defaults=fields)
        names.append(name)
    if apps is None:
        from django_celery_beat.models import PeriodicTasks

        PeriodicTasks.update_changed()  # tell a running beat to reload
    return names
