"""An appointment's status reads as Django's own ``get_status_display`` would say it."""

from django.utils import translation

from portal.scheduling.models import Appointment


def _djangos(appointment: Appointment) -> object:
    field = Appointment._meta.get_field("status")
    return appointment._get_FIELD_display(field)  # type: ignore[attr-defined]


def test_every_status_and_an_unknown_value_read_as_djangos():
    with translation.override("ru"):
        for status in [*Appointment.Status.values, "not-a-status"]:
            appointment = Appointment(status=status)
            assert appointment.get_status_display() == _djangos(appointment)
        assert Appointment(status="booked").get_status_display() == "записан"
        assert Appointment(status="no_show").get_status_display() == "неявка"
