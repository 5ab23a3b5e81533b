"""Indicator targets in the Django admin: listed with their scope, read-only. Targets are set and
removed through the indicators page or the API (analytics.services: admins only, audited), so the
admin never writes around the service."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from analytics.models import IndicatorTarget
from analytics.targets import class_label
from inspections.admin import ReadOnlyAdmin


@admin.register(IndicatorTarget)
class IndicatorTargetAdmin(ReadOnlyAdmin):
    list_display = ("code", "scope", "target", "amber_margin", "updated_by", "updated_at")
    list_filter = ("code", "municipality_class", ("municipality", admin.EmptyFieldListFilter))
    list_select_related = ("municipality", "updated_by")
    search_fields = ("code", "municipality__name_ar", "municipality__name_en", "municipality__code")
    ordering = ("code", "municipality_class", "municipality__code")

    @admin.display(description=_("scope"), ordering="municipality__code")
    def scope(self, target: IndicatorTarget) -> str:
        """The municipality or Amanah, "Class C" for a class target, else "National"."""
        if target.municipality_id:
            return str(target.municipality)
        if target.municipality_class:
            return class_label(target.municipality_class)
        return str(_("National"))
