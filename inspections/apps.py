from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = _("Inspections")

    def ready(self):
        from backend import lookups
        from inspections import signals  # noqa: F401 - connects the cache invalidation receivers

        lookups.register()  # field__any=[...]: one array parameter instead of one per value
