from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "portal.core"
    label = "core"
    verbose_name = "Портал"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from portal.core import checks  # noqa: F401  (registers the deploy checks)
        from portal.core.middleware import login_time_record

        user_logged_in.connect(login_time_record, dispatch_uid="core_login_time")
