from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "tracpro.orgs"
    verbose_name = _("Organizations")

    def ready(self) -> None:
        # Load the Celery app so that @shared_task binds to it in every process.
        import tracpro.celery  # noqa: F401
