from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PollsConfig(AppConfig):
    name = "tracpro.polls"
    verbose_name = _("Polls")
