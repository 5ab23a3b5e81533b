"""The periodic jobs exist after migrate (Asia/Riyadh), setup is idempotent, and each job's task runs."""

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from backend.celery import app
from notifications import tasks
from notifications.models import Notification
from notifications.schedules import SCHEDULES, schedules_setup
from tests.factories import RoundFactory, RoundStopFactory

pytestmark = pytest.mark.django_db


def test_migrate_registered_every_schedule_in_riyadh_time():
    periodic = {task.name: task for task in PeriodicTask.objects.select_related("crontab", "interval")}
    assert set(SCHEDULES) <= set(periodic)
    sweeper = periodic["notifications: outbox sweeper"]
    assert sweeper.interval.every == 60 and sweeper.interval.period == "seconds"
    morning = periodic["notifications: morning reminder of today's round"]
    assert (morning.crontab.hour, morning.crontab.minute) == ("6", "30")
    assert str(morning.crontab.timezone) == "Asia/Riyadh"
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
    assert tasks.morning_reminders.delay().get() == 1
    assert Notification.objects.get().kind == "round_reminder"


def test_other_jobs_run_with_nothing_to_do():
    assert tasks.end_of_day.delay().get() == 0
    assert tasks.follow_ups_due.delay().get() == 0
    assert tasks.weekly_summary.delay().get() == 0
    assert tasks.sweep_outbox.delay().get() == 0
