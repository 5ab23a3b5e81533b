"""Indicator targets per municipality class (issue 16): a target may be set nationally for every
municipality of a class (A-E), besides a municipality or Amanah and the national default. The rows
already there get an empty class, so they keep their scope and their meaning; the national default's
uniqueness now also requires the class empty, one target per (indicator, class) among class targets,
and a target is never on a municipality and a class at once."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0008_cellperiod_weeks"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="indicatortarget",
            name="target_one_national",
        ),
        migrations.AddField(
            model_name="indicatortarget",
            name="municipality_class",
            field=models.CharField(
                blank=True,
                choices=[("A", "A"), ("B", "B"), ("C", "C"), ("D", "D"), ("E", "E")],
                default="",
                help_text="A class (national, for every municipality of that class); empty otherwise.",
                max_length=1,
                verbose_name="municipality class",
            ),
        ),
        migrations.AddConstraint(
            model_name="indicatortarget",
            constraint=models.UniqueConstraint(
                condition=models.Q(("municipality__isnull", True), ("municipality_class", "")),
                fields=("code",),
                name="target_one_national",
            ),
        ),
        migrations.AddConstraint(
            model_name="indicatortarget",
            constraint=models.UniqueConstraint(
                condition=models.Q(("municipality_class", ""), _negated=True),
                fields=("code", "municipality_class"),
                name="target_one_per_class",
            ),
        ),
        migrations.AddConstraint(
            model_name="indicatortarget",
            constraint=models.CheckConstraint(
                condition=models.Q(("municipality__isnull", True), ("municipality_class", ""), _connector="OR"),
                name="target_municipality_or_class",
            ),
        ),
        migrations.AddConstraint(
            model_name="indicatortarget",
            constraint=models.CheckConstraint(
                condition=models.Q(("municipality_class__in", ["", "A", "B", "C", "D", "E"])),
                name="target_class_known",
            ),
        ),
    ]
