from django.apps import AppConfig


class HomeVisitsConfig(AppConfig):
    name = "portal.home_visits"
    label = "home_visits"
    verbose_name = "Вызов врача на дом"
