"""Deferred roll-ups (settings.ROLLUPS_DEFERRED): the visits synced but not yet added to the roll-ups,
and the periodic flush registered in django-celery-beat's tables (backend/schedules.py)."""

from django.db import migrations, models


def schedules(apps, schema_editor):
    from backend.schedules import schedules_setup

    schedules_setup(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0005_rollup_scope_statistics"),
        ("notifications", "0003_periodic_tasks"),
    ]

    operations = [
        migrations.CreateModel(
            name="RollupPending",
            fields=[("visit_id", models.BigIntegerField(primary_key=True, serialize=False))],
        ),
        migrations.RunPython(schedules, migrations.RunPython.noop),
    ]
