"""Register the periodic jobs (sweeper, reminders, end of day, follow-ups, weekly summary) in
django-celery-beat's tables; idempotent, see backend/schedules.py (the one table of periodic jobs)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from backend.schedules import schedules_setup

    schedules_setup(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_notification_claim"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
