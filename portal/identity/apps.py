from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "portal.identity"
    label = "identity"
    verbose_name = "Пользователи"

    def ready(self) -> None:
        from portal.identity import checks  # noqa: F401 - registers the deploy checks
