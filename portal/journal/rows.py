"""«Кто действовал от моего имени»: the journal as a patient or a guardian reads it.

The vocabulary is ``AuditAction`` (every action has its Russian label); this module
adds the detail a reader needs — which child, which doctor and time, from which
device — and decides how much it says about the person who acted.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from portal.audit.models import AuditAction, AuditEvent
from portal.patients.models import Patient
from portal.patients.selectors import guardians_verified_by_user, patient_seen_in_full_by
from portal.scheduling.models import Appointment

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from portal.identity.models import User

# Actions whose details name an appointment; the journal says which doctor and when.
_APPOINTMENT_ACTIONS = {
    AuditAction.APPOINTMENT_BOOKED,
    AuditAction.APPOINTMENT_CANCELLED,
    AuditAction.APPOINTMENT_CANCELLED_BY_CLINIC,
}
# Referral actions (docs/referrals.md): the detail names the referral's number, and the
# appointment when it used or freed one.
_REFERRAL_ACTIONS = {
    AuditAction.REFERRAL_ISSUED,
    AuditAction.REFERRAL_USED,
    AuditAction.REFERRAL_RETURNED,
    AuditAction.REFERRAL_CANCELLED,
}
# Actions whose details name a child of the journal's owner.
_CHILD_ACTIONS = {
    AuditAction.RELATIVE_ADDED,
    AuditAction.RELATIVE_REMOVED,
    AuditAction.ACTING_ENDED,
    AuditAction.GUARDIANSHIP_CONFIRMED,
    AuditAction.GUARDIANSHIP_APPROVED,
    AuditAction.GUARDIANSHIP_REVOKED,
}


@dataclass(frozen=True)
class JournalRow:
    when: datetime
    who: str
    what: str
    detail: str
    device: str


def action_label(code: str) -> str:
    """The Russian label of an action code (the code itself only if it is unknown)."""
    try:
        return str(AuditAction(code).label)
    except ValueError:
        return code


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _appointments(events: list[AuditEvent]) -> dict[int, Appointment]:
    ids = {
        pk
        for e in events
        if e.action in _APPOINTMENT_ACTIONS | _REFERRAL_ACTIONS
        and (pk := _int(e.details.get("appointment")))
    }
    if not ids:
        return {}
    rows = Appointment.objects.filter(pk__in=ids).select_related(
        "specialty", "slot__doctor__clinic"
    )
    return {a.pk: a for a in rows}


def _children(events: list[AuditEvent]) -> dict[int, Patient]:
    ids = {
        pk for e in events if e.action in _CHILD_ACTIONS and (pk := _int(e.details.get("child_id")))
    }
    return Patient.objects.in_bulk(ids) if ids else {}


def _appointment_detail(appointment: Appointment) -> str:
    doctor = appointment.slot.doctor
    start = date_format(timezone.localtime(appointment.starts_at), "d.m.Y H:i")
    return _("%(specialty)s, %(doctor)s, %(clinic)s, %(start)s") % {
        "specialty": appointment.specialty.name,
        "doctor": doctor.full_name,
        "clinic": doctor.clinic.short_name,
        "start": start,
    }


def _rescheduled(event: AuditEvent) -> str | None:
    """A move is a cancellation and a booking written together, each naming the other
    (`scheduling.services.appointment_reschedule`): "was" for the old, "now" for the new."""
    if event.action == AuditAction.APPOINTMENT_CANCELLED and "rescheduled_to" in event.details:
        return "was"
    if event.action == AuditAction.APPOINTMENT_BOOKED and "rescheduled_from" in event.details:
        return "now"
    return None


def _what(event: AuditEvent) -> str:
    if _rescheduled(event) is not None:
        return _("Перенос записи")
    return action_label(event.action)


def _detail(
    event: AuditEvent, appointments: dict[int, Appointment], children: dict[int, Patient]
) -> str:
    if event.action in _APPOINTMENT_ACTIONS:
        appointment = appointments.get(_int(event.details.get("appointment")) or 0)
        if appointment is None:
            return ""
        detail = _appointment_detail(appointment)
        move = _rescheduled(event)
        if move == "was":
            return _("Было: %(detail)s") % {"detail": detail}
        if move == "now":
            return _("Стало: %(detail)s") % {"detail": detail}
        return detail
    if event.action in _REFERRAL_ACTIONS:
        referral = _("Направление № %(number)s") % {"number": event.details.get("number", "")}
        appointment = appointments.get(_int(event.details.get("appointment")) or 0)
        return f"{referral}: {_appointment_detail(appointment)}" if appointment else referral
    if event.action in _CHILD_ACTIONS:
        child = children.get(_int(event.details.get("child_id")) or 0)
        return child.full_name if child else ""
    return ""


@dataclass(frozen=True)
class _Readers:
    """What the viewer may learn about the people in one patient's journal."""

    viewer_id: int | None
    viewer_in_full: bool
    guardians: dict[int, bool]  # user id → verified guardian of this patient


def _who(event: AuditEvent, readers: _Readers) -> str:
    if event.user_id is None:
        return _("Портал")
    if event.user_id == readers.viewer_id:
        return _("Вы")
    # A refused attempt does not name who tried: the journal must not become a way
    # to learn about strangers.
    if event.action == AuditAction.ACCESS_REFUSED:
        return _("Другой пользователь")
    if event.user_id in readers.guardians:
        # Names only between verified guardians: an unverified newcomer learns no
        # names, and is not named to anyone before a clinic or a parent vouches.
        actor = getattr(event.user, "patient", None)
        if readers.viewer_in_full and readers.guardians[event.user_id] and actor is not None:
            return _("Законный представитель %(name)s") % {"name": actor.short_name}
        return _("Другой законный представитель")
    if getattr(event.user, "patient", None) is not None:
        return _("Другой пользователь")
    return _("Сотрудник медицинской организации")


def journal_rows(
    events: Iterable[AuditEvent], *, viewer: "User | AnonymousUser", patient_id: int
) -> list[JournalRow]:
    """One row per event of ``patient_id``'s journal (as ``audit_events_visible_to``
    chose them): when, who (as much as the viewer may know), what, detail, device."""
    events = list(events)
    appointments = _appointments(events)
    children = _children(events)
    readers = _Readers(
        viewer_id=viewer.pk,
        viewer_in_full=patient_seen_in_full_by(viewer, patient_id),
        guardians=guardians_verified_by_user(patient_id),
    )
    return [
        JournalRow(
            when=event.created_at,
            who=_who(event, readers),
            what=_what(event),
            detail=_detail(event, appointments, children),
            device=str(event.details.get("device") or ""),
        )
        for event in events
    ]
