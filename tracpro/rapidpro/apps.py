from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RapidProConfig(AppConfig):
    name = "tracpro.rapidpro"
    verbose_name = _("RapidPro")

    def ready(self) -> None:
        # Register the sync tasks in every process, so web views can trigger them.
        import tracpro.rapidpro.tasks  # noqa: F401
