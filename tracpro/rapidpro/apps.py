from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RapidProConfig(AppConfig):
    name = "tracpro.rapidpro"
    verbose_name = _("RapidPro")
