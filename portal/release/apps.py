from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReleaseConfig(AppConfig):
    name = "portal.release"
    verbose_name = _("Запись при открытии дня")
