from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo region and the ESIA test persons; no models of its own."""

    name = "portal.demo"
    label = "demo"
    verbose_name = "Демо-данные"
