from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "portal.notifications"
    label = "notifications"
    verbose_name = "Уведомления"

    def ready(self) -> None:
        # Listen to the booking service's announcements (scheduling.events).
        from portal.notifications import receivers  # noqa: F401
