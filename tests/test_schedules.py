"""The periodic jobs (one table, backend/schedules.py) exist after migrate (Asia/Riyadh), setup is
idempotent, each job's task runs, and the rows of the jobs that moved to inspections were renamed."""

from importlib import import_module

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from backend.celery import app
from backend.schedules import SCHEDULES, schedules_setup
from inspections import tasks as inspection_tasks
from notifications import tasks as notification_tasks
from notifications.models import Notification
from tests.factories import RoundFactory, RoundStopFactory

pytestmark = pytest.mark.django_db


def test_migrate_registered_every_schedule_in_riyadh_time():
    periodic = {task.name: task for task in PeriodicTask.objects.select_related("crontab", "interval")}
    assert set(SCHEDULES) <= set(periodic)
    sweeper = periodic["notifications: outbox sweeper"]
    assert sweeper.interval.every == 60 and sweeper.interval.period == "seconds"
    morning = periodic["inspections: morning reminder of today's round"]
    assert (morning.crontab.hour, morning.crontab.minute) == ("6", "30")
    assert str(morning.crontab.timezone) == "Asia/Riyadh"
    app.loader.import_default_modules()  # every app's tasks module, as a worker loads them
    for task in periodic.values():
        if task.name in SCHEDULES:
            assert task.task in app.tasks, task.task


def test_setup_is_idempotent():
    before = PeriodicTask.objects.count()
    schedules_setup()
    schedules_setup()
    assert PeriodicTask.objects.count() == before


def test_morning_reminder_task_notifies_todays_inspector(dammam, inspector):
    round_ = RoundFactory(municipality=dammam, inspector=inspector, date=timezone.localdate())
    RoundStopFactory(round=round_)
    assert inspection_tasks.morning_reminders.delay().get() == 1
    assert Notification.objects.get().kind == "round_reminder"


def test_other_jobs_run_with_nothing_to_do():
    assert inspection_tasks.close_day.delay().get() == 0
    assert inspection_tasks.follow_ups_due.delay().get() == 0
    assert inspection_tasks.weekly_summary.delay().get() == 0
    assert notification_tasks.sweep_outbox.delay().get() == 0


def test_the_rows_of_jobs_that_moved_to_inspections_are_renamed_not_left_behind():
    from django.apps import apps
    from django_celery_beat.models import IntervalSchedule

    migration = import_module("inspections.migrations.0007_periodic_tasks_moved")
    PeriodicTask.objects.filter(name__startswith="inspections: ").delete()
    every_day = IntervalSchedule.objects.create(every=1, period="days")
    # A database migrated before the move: the old row, with its old task (and the admin's edits).
    PeriodicTask.objects.create(
        name="notifications: end of day, stops still open", task="notifications.end_of_day", interval=every_day
    )
    migration.forwards(apps, None)
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert not any(name.startswith("notifications: ") and name != "notifications: outbox sweeper" for name in names)
    close = PeriodicTask.objects.get(name="inspections: end of day, close rounds, stops still open")
    assert close.task == "inspections.close_day" and close.task in app.tasks
    assert set(SCHEDULES) <= names
    migration.backwards(apps, None)
    assert (
        PeriodicTask.objects.get(name="notifications: end of day, stops still open").task == "notifications.end_of_day"
    )
