from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "portal.journal"
    verbose_name = "Журнал действий пациента"
