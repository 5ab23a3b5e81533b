"""Analytics' own data: the targets that leadership's indicators are held against."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IndicatorTarget(models.Model):
    """The target an admin set for one indicator (analytics.indicators.INDICATORS), with the margin
    within which a miss shows amber rather than red. One target per indicator for every scope."""

    code = models.CharField(_("indicator"), max_length=64, unique=True)
    target = models.FloatField(_("target"))
    amber_margin = models.FloatField(_("amber margin"), default=0.0)
    updated_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("indicator target")
        verbose_name_plural = _("indicator targets")
        constraints = [models.CheckConstraint(condition=models.Q(amber_margin__gte=0), name="target_margin_positive")]

    def __str__(self) -> str:
        return f"{self.code}: {self.target}"
