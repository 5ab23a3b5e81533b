"""Analytics' own data: the targets that leadership's indicators are held against."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from inspections.models import MUNICIPALITY_CLASSES


class IndicatorTarget(models.Model):
    """The target an admin set for one indicator (analytics.indicators.INDICATORS), with the margin
    within which a miss shows amber rather than red, for exactly one scope: a municipality or an Amanah
    (`municipality`), a municipality class nationally (`municipality_class`, A-E: "class C
    municipalities: coverage 60%"), or the national default (neither, the ministry's). A municipality's
    figure takes its own target, else its nearest ancestor's, else its class's, else the national
    default (analytics.targets.TargetBook.resolve)."""

    code = models.CharField(_("indicator"), max_length=64)
    municipality = models.ForeignKey(
        "inspections.Municipality",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("scope"),
        help_text=_("A municipality or an Amanah; empty for the national default."),
    )
    municipality_class = models.CharField(
        _("municipality class"),
        max_length=1,
        choices=[(code, code) for code in MUNICIPALITY_CLASSES],
        blank=True,
        default="",
        help_text=_("A class (national, for every municipality of that class); empty otherwise."),
    )
    target = models.FloatField(_("target"))
    amber_margin = models.FloatField(_("amber margin"), default=0.0)
    updated_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("indicator target")
        verbose_name_plural = _("indicator targets")
        constraints = [
            models.CheckConstraint(condition=models.Q(amber_margin__gte=0), name="target_margin_positive"),
            models.UniqueConstraint(fields=["code", "municipality"], name="target_one_per_scope"),
            # NULLs are distinct in a unique constraint: the national default needs its own.
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(municipality__isnull=True, municipality_class=""),
                name="target_one_national",
            ),
            models.UniqueConstraint(
                fields=["code", "municipality_class"],
                condition=~models.Q(municipality_class=""),
                name="target_one_per_class",
            ),
            # A class target is national: never on a municipality as well.
            models.CheckConstraint(
                condition=models.Q(municipality__isnull=True) | models.Q(municipality_class=""),
                name="target_municipality_or_class",
            ),
            models.CheckConstraint(
                condition=models.Q(municipality_class__in=["", *MUNICIPALITY_CLASSES]),
                name="target_class_known",
            ),
        ]

    def __str__(self) -> str:
        scope = self.municipality_id or (f"class {self.municipality_class}" if self.municipality_class else "national")
        return f"{self.code} @ {scope}: {self.target}"


# Roll-ups (issue 16): daily aggregates of completed visits, kept exact in the same transaction as the
# writes (analytics/rollups.py, docs/analytics.md "Roll-ups"). Ids are plain integers, not foreign
# keys: these rows are derived data, rebuilt from the raw tables by `manage.py rollups_rebuild`.
# `day` is the visit's Asia/Riyadh day; only completed visits (compliant or violations) are counted.


class _VisitCounts(models.Model):
    """Completed and violating visits: the figures of every visit roll-up (each declares its own key)."""

    visits = models.IntegerField(default=0)
    violating = models.IntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.model_name} {self.pk}: {self.visits}/{self.violating}"


class VisitDay(_VisitCounts):
    """Completed and violating visits per Riyadh day x municipality x category x checklist."""

    pk = models.CompositePrimaryKey("day", "municipality_id", "category_id", "checklist_id")
    day = models.DateField()
    municipality_id = models.IntegerField()
    category_id = models.IntegerField()
    checklist_id = models.IntegerField()


class InspectorDay(_VisitCounts):
    """The same per inspector (group_by=inspector)."""

    pk = models.CompositePrimaryKey("day", "municipality_id", "inspector_id", "category_id", "checklist_id")
    day = models.DateField()
    municipality_id = models.IntegerField()
    inspector_id = models.IntegerField()
    category_id = models.IntegerField()
    checklist_id = models.IntegerField()


class ItemDay(models.Model):
    """Answers (null and N/A excluded) and failed answers per day x municipality x item code x
    category x checklist, on completed visits."""

    pk = models.CompositePrimaryKey("day", "municipality_id", "item_code", "category_id", "checklist_id")
    day = models.DateField()
    municipality_id = models.IntegerField()
    item_code = models.CharField(max_length=64)
    category_id = models.IntegerField()
    checklist_id = models.IntegerField()
    answers = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"itemday {self.pk}: {self.answers}/{self.failed}"


class CellPeriod(_VisitCounts):
    """Completed and violating visits per H3 cell (each stored resolution 5..9) x municipality, per
    grain: a Riyadh day (`grain` "d", `period` the day), a Riyadh month ("m", `period` its first day)
    and, at the resolutions with many cells, an ISO week of Riyadh days ("w", `period` its Monday) and
    a calendar quarter ("q"). A range reads its whole quarters, months and weeks from those rows and
    the days left at its edges from the day rows (analytics.periods.cover)."""

    class Grain(models.TextChoices):
        DAY = "d"
        WEEK = "w"  # ISO weeks (Monday to Sunday), kept for analytics.rollups.WEEK_RESOLUTIONS only
        MONTH = "m"
        QUARTER = "q"  # calendar quarters, kept for analytics.rollups.QUARTER_RESOLUTIONS only

    pk = models.CompositePrimaryKey("resolution", "grain", "period", "municipality_id", "cell")
    resolution = models.SmallIntegerField()
    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()
    municipality_id = models.IntegerField()
    cell = models.BigIntegerField()


class RollupPending(models.Model):
    """A synced visit whose contribution is not in the roll-ups yet (settings.ROLLUPS_DEFERRED): the
    visit sync writes one row per visit in its transaction; `rollups_flush` (the Celery task
    analytics.rollups_flush, every 5 s: backend/schedules.py) adds the contribution of many at once and
    deletes their rows in the same transaction. A plain id, not a foreign key: a visit deleted meanwhile
    simply contributes nothing when flushed. See analytics/rollups.py for the guarantee."""

    visit_id = models.BigIntegerField(primary_key=True)

    def __str__(self) -> str:
        return f"pending visit {self.visit_id}"
