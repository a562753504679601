"""The words a home visit's state change sends (docs/home-visits.md), written into the
outbox by `notifications.services.patient_event_notify` in the change's transaction.

An SMS names the patient by initials, the day and the window, never the complaints: it
is read by anyone who holds the phone (docs/notifications.md)."""

from django.conf import settings
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from portal.home_visits.models import HomeVisit
from portal.notifications.models import Kind
from portal.notifications.services import patient_event_notify
from portal.notifications.texts import Content
from portal.patients.models import Patient

KIND_OF_STATE = {
    HomeVisit.State.RECEIVED: Kind.HOME_VISIT_RECEIVED,
    HomeVisit.State.ACCEPTED: Kind.HOME_VISIT_ACCEPTED,
    HomeVisit.State.ASSIGNED: Kind.HOME_VISIT_ASSIGNED,
    HomeVisit.State.VISITED: Kind.HOME_VISIT_VISITED,
    HomeVisit.State.CANCELLED: Kind.HOME_VISIT_CANCELLED,
}


def _headline(visit: HomeVisit, facts: dict[str, str]) -> str:
    state = visit.state
    if state == HomeVisit.State.RECEIVED:
        return _("Вызов врача на дом%(whose)s на %(day)s принят поликлиникой «%(clinic)s».") % facts
    if state == HomeVisit.State.ACCEPTED:
        return _("Вызов врача на дом%(whose)s на %(day)s принят в работу.") % facts
    if state == HomeVisit.State.ASSIGNED:
        return (
            _(
                "На вызов%(whose)s %(day)s назначен врач %(doctor)s: ожидайте с %(start)s "
                "до %(end)s."
            )
            % facts
        )
    if state == HomeVisit.State.VISITED:
        return _("Врач посетил на дому%(whose)s %(day)s. Выздоравливайте!") % facts
    if visit.cancelled_by == HomeVisit.CancelledBy.CLINIC:
        return _("Поликлиника отменила вызов врача на дом%(whose)s на %(day)s: %(reason)s") % facts
    return _("Вызов врача на дом%(whose)s на %(day)s отменён.") % facts


def content(visit: HomeVisit, recipient: Patient) -> Content:
    patient = visit.patient
    facts = {
        "whose": "" if patient.pk == recipient.pk else f" ({patient.short_name})",
        "day": formats.date_format(visit.day, "d.m.Y"),
        "clinic": visit.clinic.short_name,
        "doctor": visit.doctor.full_name if visit.doctor else "",
        "start": visit.window_start.strftime("%H:%M") if visit.window_start else "",
        "end": visit.window_end.strftime("%H:%M") if visit.window_end else "",
        "reason": visit.cancel_reason,
    }
    link = settings.NOTIFICATIONS_PORTAL_URL + reverse("home_visits:detail", args=[visit.pk])
    headline = _headline(visit, facts)
    name = " ".join(p for p in (recipient.first_name, recipient.middle_name) if p)
    sms_facts = {**facts, "link": link, "state": visit.get_state_display()}
    if visit.state == HomeVisit.State.ASSIGNED:
        sms = _("Вызов врача%(whose)s %(day)s: ожидайте врача с %(start)s до %(end)s. %(link)s")
    else:
        sms = _("Вызов врача на дом%(whose)s на %(day)s: %(state)s. %(link)s")
    return Content(
        subject=_("Вызов врача на дом на %(day)s: %(state)s") % sms_facts,
        lines=[
            _("Здравствуйте, %(name)s!") % {"name": name},
            headline,
            _("Подробности: %(link)s") % {"link": link},
        ],
        sms=sms % sms_facts,
    )


def visit_changed(visit: HomeVisit) -> None:
    """Tell the patient (or every verified guardian and the applicant) of the new state."""
    stamp = visit.assigned_at.timestamp() if visit.assigned_at else 0
    patient_event_notify(
        kind=KIND_OF_STATE[HomeVisit.State(visit.state)],
        patient=visit.patient,
        made_by_id=visit.applicant_id,
        content_for=lambda recipient: content(visit, recipient),
        # One message per state per recipient; a re-assignment is a new event.
        key=f"hv:{visit.pk}:{visit.state}:{stamp:.0f}",
    )
