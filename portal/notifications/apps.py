from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "portal.notifications"
    label = "notifications"
    verbose_name = "Уведомления"

    def ready(self) -> None:
        # Listen to the booking service's announcements (scheduling.events).
        from portal.core.tasks_idle import idle_work_register
        from portal.notifications import receivers  # noqa: F401
        from portal.notifications.polling import outbox_poll

        # A task worker with an empty queue delivers the outbox's due messages: no event
        # writes a task row for them (docs/notifications.md).
        idle_work_register(outbox_poll)
