"""The ticket (талон) as a QR code and as a calendar file."""

import datetime
from email.utils import parseaddr

import segno
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from portal.patients.rules import is_over_child_age
from portal.scheduling.models import Appointment
from portal.scheduling.tickets import ticket_code_ascii


def ticket_payload(appointment: Appointment) -> str:
    """What the QR code holds: the workspace address of the ticket, ASCII only, so that a
    handheld scanner at the window reads it without an ECI marker and a phone opens it
    (behind the staff login). No personal data; the code alone finds the ticket, and only
    for the staff of its clinic (docs/workspace.md, «The window»)."""
    path = reverse("workspace:ticket", args=[ticket_code_ascii(appointment.ticket_number)])
    return f"{settings.NOTIFICATIONS_PORTAL_URL}{path}"


def ticket_qr(appointment: Appointment) -> segno.QRCode:
    """The ticket's QR code; an ASCII payload needs no ECI marker (byte mode, ISO 8859-1)."""
    return segno.make(ticket_payload(appointment), micro=False, error="m")


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
    svg = ticket_qr(appointment).svg_inline(scale=4, dark="#000", light="#fff", svgclass="qr-code")
    return mark_safe(svg)


def ticket_ics(appointment: Appointment, *, cancelled: bool | None = None) -> bytes:
    """The appointment as a calendar event; a cancelled one as its cancellation.

    A calendar that imported the event removes it when it reads the same UID with
    METHOD:CANCEL and STATUS:CANCELLED (RFC 5546 §3.2.5); the higher SEQUENCE makes it
    newer than the event it replaces. ``cancelled`` overrides the appointment's state: a
    confirmation e-mail sent after a quick cancellation still carries the event it confirms.
    """
    doctor = appointment.slot.doctor
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
    # UTC, with no VTIMEZONE: vobject and ical.js read the embedded Irkutsk rules as those
    # of decades ago and showed 08:00 as 07:00 (issue 23); every client converts UTC right.
    event.add("dtstart", appointment.starts_at.astimezone(datetime.UTC))
    event.add("dtend", appointment.ends_at.astimezone(datetime.UTC))
    event.add("organizer", _organizer(doctor.clinic.short_name))
    event.add("summary", ticket_event_title(appointment, cancelled=cancelled))
    event.add(
        "location", f"{doctor.clinic.short_name}, {doctor.clinic.address}, каб. {doctor.room}"
    )
    description = f"Талон № {appointment.ticket_number}; врач {doctor.full_name}"
    if cancelled:
        description = f"Запись отменена. {description}"
    event.add("description", description)
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical


def _organizer(clinic_name: str) -> vCalAddress:
    """RFC 5546 wants an ORGANIZER on PUBLISH and CANCEL: the clinic, reached through the
    portal's own sender address (the portal sends the event on the clinic's behalf)."""
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = vCalAddress(f"mailto:{address or 'noreply@portal.localhost'}")
    organizer.params["CN"] = vText(clinic_name)
    return organizer


def ticket_event_title(appointment: Appointment, *, cancelled: bool | None = None) -> str:
    """Says for whom: a mother's calendar holds her own and her children's visits."""
    title = f"Приём: {appointment.specialty.name} — {appointment.patient.short_name}"
    if cancelled is None:
        cancelled = appointment.is_cancelled
    return f"Отменено: {title}" if cancelled else title
