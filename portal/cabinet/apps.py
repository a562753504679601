from django.apps import AppConfig


class CabinetConfig(AppConfig):
    name = "portal.cabinet"
    verbose_name = "Главная страница личного кабинета"
