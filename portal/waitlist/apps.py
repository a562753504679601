from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "portal.waitlist"
    label = "waitlist"
    verbose_name = "Лист ожидания"

    def ready(self) -> None:
        # Listen to the booking service's announcements (scheduling.events).
        from portal.scheduling.selectors import read_with_appointment_list
        from portal.waitlist import receivers  # noqa: F401
        from portal.waitlist.selectors import OFFERS_LIVE, offers_live_count

        # «Мои записи» says how many offers wait: counted in the list's own statement.
        read_with_appointment_list(OFFERS_LIVE, offers_live_count)
