"""Indicator targets per scope (issue 16): a target belongs to a municipality, an Amanah or (null) the
nation. The rows already there keep a null scope, so they become the national defaults unchanged; one
target per (indicator, scope), the null scope included (a conditional constraint: NULLs are distinct)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0006_rollup_pending"),
        ("inspections", "0013_history_import"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="indicatortarget",
            name="municipality",
            field=models.ForeignKey(
                blank=True,
                help_text="A municipality or an Amanah; empty for the national default.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="inspections.municipality",
                verbose_name="scope",
            ),
        ),
        migrations.AlterField(
            model_name="indicatortarget",
            name="code",
            field=models.CharField(max_length=64, verbose_name="indicator"),
        ),
        migrations.AddConstraint(
            model_name="indicatortarget",
            constraint=models.UniqueConstraint(fields=("code", "municipality"), name="target_one_per_scope"),
        ),
        migrations.AddConstraint(
            model_name="indicatortarget",
            constraint=models.UniqueConstraint(
                condition=models.Q(("municipality__isnull", True)), fields=("code",), name="target_one_national"
            ),
        ),
    ]
