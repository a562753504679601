from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "portal.waitlist"
    label = "waitlist"
    verbose_name = "Лист ожидания"

    def ready(self) -> None:
        # Listen to the booking service's announcements (scheduling.events).
        from portal.waitlist import receivers  # noqa: F401
