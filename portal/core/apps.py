from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "portal.core"
    label = "core"
    verbose_name = "Портал"

    def ready(self) -> None:
        from portal.core import checks  # noqa: F401  (registers the deploy checks)
