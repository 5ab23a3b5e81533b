from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = _("Community participation")

    def ready(self) -> None:
        from community import receivers

        receivers.connect()
