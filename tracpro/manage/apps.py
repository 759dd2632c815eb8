from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ManageConfig(AppConfig):
    name = "tracpro.manage"
    verbose_name = _("Administration")
