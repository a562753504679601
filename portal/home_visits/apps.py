from django.apps import AppConfig


class HomeVisitsConfig(AppConfig):
    name = "portal.home_visits"
    label = "home_visits"
    verbose_name = "Вызов врача на дом"

    def ready(self) -> None:
        # Keep the addresses the ESIA login gives (identity.signals).
        from portal.home_visits import receivers  # noqa: F401
