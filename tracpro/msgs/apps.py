from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MsgsConfig(AppConfig):
    name = "tracpro.msgs"
    verbose_name = _("Messages")
