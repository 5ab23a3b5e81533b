"""Deferred risk scores (settings.RISK_DEFERRED): the establishments whose stored risk score waits for a
recompute, and the periodic flush registered in django-celery-beat's tables (backend/schedules.py)."""

import django.utils.timezone
from django.db import migrations, models


def schedules(apps, schema_editor):
    from backend.schedules import schedules_setup

    schedules_setup(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0013_history_import"),
        ("notifications", "0003_periodic_tasks"),
    ]

    operations = [
        migrations.CreateModel(
            name="RiskPending",
            fields=[
                ("establishment_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("queued_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.RunPython(schedules, migrations.RunPython.noop),
    ]
