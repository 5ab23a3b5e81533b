"""The domain's periodic jobs (morning reminder, follow-ups due, end of day, weekly summary) moved
from the notifications app to inspections/tasks.py: rename their existing beat rows (name and task)
instead of leaving the old rows to call tasks that no longer exist, then register the one table
(backend/schedules.py)."""

from django.db import migrations

# old row name: (new row name, new task, old task)
MOVED = {
    "notifications: morning reminder of today's round": (
        "inspections: morning reminder of today's round",
        "inspections.morning_reminders",
        "notifications.morning_reminders",
    ),
    "notifications: follow-ups due today": (
        "inspections: follow-ups due today",
        "inspections.follow_ups_due",
        "notifications.follow_ups_due",
    ),
    "notifications: end of day, stops still open": (
        "inspections: end of day, close rounds, stops still open",
        "inspections.close_day",
        "notifications.end_of_day",
    ),
    "notifications: weekly summary to leadership": (
        "inspections: weekly summary to leadership",
        "inspections.weekly_summary",
        "notifications.weekly_summary",
    ),
}


def _rename(apps, renames: dict[str, tuple[str, str]]) -> None:
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")  # noqa: N806
    for old_name, (new_name, task) in renames.items():
        row = PeriodicTask.objects.filter(name=old_name).first()
        if row is None:
            continue
        if PeriodicTask.objects.filter(name=new_name).exists():
            row.delete()  # the new row is already registered: the old one would run the job twice
            continue
        row.name, row.task = new_name, task
        row.save(update_fields=["name", "task"])


def forwards(apps, schema_editor):
    from backend.schedules import schedules_setup

    _rename(apps, {old: (new, task) for old, (new, task, _old_task) in MOVED.items()})
    schedules_setup(apps)


def backwards(apps, schema_editor):
    _rename(apps, {new: (old, old_task) for old, (new, _task, old_task) in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0006_demorecord"),
        ("notifications", "0003_periodic_tasks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
