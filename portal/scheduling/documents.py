"""The ticket (талон) as a QR code and as a calendar file."""

from zoneinfo import ZoneInfo

import segno
from django.conf import settings
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from portal.patients.rules import is_over_child_age
from portal.scheduling.models import Appointment


def ticket_text(appointment: Appointment) -> str:
    """What the QR code holds: enough for the registry to find the ticket, no personal data."""
    doctor = appointment.slot.doctor
    start = timezone.localtime(appointment.starts_at)
    return (
        f"Талон {appointment.ticket_number}; {doctor.clinic.short_name}; "
        f"{start:%d.%m.%Y %H:%M}; каб. {doctor.room or '—'}"
    )


def documents_to_bring(appointment: Appointment) -> str:
    """What the ticket tells the patient to bring: a child under CHILD_MAX_AGE has no
    passport, the parent brings the birth certificate (issue 27)."""
    if is_over_child_age(appointment.patient, timezone.localtime(appointment.starts_at).date()):
        return _("Приходите за 10–15 минут до приёма. Возьмите паспорт и полис ОМС.")
    return _(
        "Приходите за 10–15 минут до приёма. Возьмите свидетельство о рождении и полис ОМС "
        "ребёнка; законный представитель — свой паспорт."
    )


def ticket_qr_svg(appointment: Appointment) -> SafeString:
    """Inline SVG, drawn here: no external QR service ever sees a ticket."""
    svg = segno.make(ticket_text(appointment), micro=False).svg_inline(
        scale=4, dark="#000", light="#fff", svgclass="qr-code"
    )
    return mark_safe(svg)


def ticket_ics(appointment: Appointment, *, cancelled: bool | None = None) -> bytes:
    """The appointment as a calendar event; a cancelled one as its cancellation.

    A calendar that imported the event removes it when it reads the same UID with
    METHOD:CANCEL and STATUS:CANCELLED (RFC 5546 §3.2.5); the higher SEQUENCE makes it
    newer than the event it replaces. ``cancelled`` overrides the appointment's state: a
    confirmation e-mail sent after a quick cancellation still carries the event it confirms.
    """
    doctor = appointment.slot.doctor
    tz = ZoneInfo(settings.TIME_ZONE)
    if cancelled is None:
        cancelled = appointment.is_cancelled
    calendar = Calendar()
    calendar.add("prodid", "-//Портал пациента//Запись к врачу//RU")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}-{appointment.ticket_number}@portal")
    event.add("dtstamp", timezone.now())
    event.add("sequence", 1 if cancelled else 0)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("dtstart", appointment.starts_at.astimezone(tz))
    event.add("dtend", appointment.ends_at.astimezone(tz))
    event.add("summary", ticket_event_title(appointment, cancelled=cancelled))
    event.add(
        "location", f"{doctor.clinic.short_name}, {doctor.clinic.address}, каб. {doctor.room}"
    )
    description = f"Талон № {appointment.ticket_number}; врач {doctor.full_name}"
    if cancelled:
        description = f"Запись отменена. {description}"
    event.add("description", description)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical


def ticket_event_title(appointment: Appointment, *, cancelled: bool | None = None) -> str:
    """Says for whom: a mother's calendar holds her own and her children's visits."""
    title = f"Приём: {appointment.specialty.name} — {appointment.patient.short_name}"
    if cancelled is None:
        cancelled = appointment.is_cancelled
    return f"Отменено: {title}" if cancelled else title
