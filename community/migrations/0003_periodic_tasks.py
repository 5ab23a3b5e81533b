"""The community app's periodic jobs in django-celery-beat's tables (idempotent by name)."""

from django.db import migrations

SCHEDULES = {
    "community: webhook events from inspections, cases reconciled": ("community.collect", 30),
    "community: webhook outbox sweeper": ("community.sweep_webhooks", 60),
}


def setup(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")  # noqa: N806
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")  # noqa: N806
    for name, (task, seconds) in SCHEDULES.items():
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "interval": interval, "crontab": None, "enabled": True}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0002_service_types_and_shop_codes"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(setup, migrations.RunPython.noop)]
