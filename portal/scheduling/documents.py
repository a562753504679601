"""The ticket (талон) as a QR code and as a calendar file."""

from zoneinfo import ZoneInfo

import segno
from django.conf import settings
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from icalendar import Calendar, Event

from portal.scheduling.models import Appointment


def ticket_text(appointment: Appointment) -> str:
    """What the QR code holds: enough for the registry to find the ticket, no personal data."""
    doctor = appointment.slot.doctor
    start = timezone.localtime(appointment.starts_at)
    return (
        f"Талон {appointment.ticket_number}; {doctor.clinic.short_name}; "
        f"{start:%d.%m.%Y %H:%M}; каб. {doctor.room or '—'}"
    )


def ticket_qr_svg(appointment: Appointment) -> SafeString:
    """Inline SVG, drawn here: no external QR service ever sees a ticket."""
    svg = segno.make(ticket_text(appointment), micro=False).svg_inline(
        scale=4, dark="#000", light="#fff", svgclass="qr-code"
    )
    return mark_safe(svg)


def ticket_ics(appointment: Appointment) -> bytes:
    doctor = appointment.slot.doctor
    tz = ZoneInfo(settings.TIME_ZONE)
    calendar = Calendar()
    calendar.add("prodid", "-//Портал пациента//Запись к врачу//RU")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}-{appointment.ticket_number}@portal")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.starts_at.astimezone(tz))
    event.add("dtend", appointment.ends_at.astimezone(tz))
    event.add("summary", f"Приём: {appointment.specialty.name}, {doctor.full_name}")
    event.add(
        "location", f"{doctor.clinic.short_name}, {doctor.clinic.address}, каб. {doctor.room}"
    )
    event.add("description", f"Талон № {appointment.ticket_number}")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical
