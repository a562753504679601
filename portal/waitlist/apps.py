from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "portal.waitlist"
    label = "waitlist"
    verbose_name = "Лист ожидания"
