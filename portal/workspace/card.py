"""The patient card's reads (docs/workspace.md, «The patient card»): finding a person the
clinic may see, and what the card shows of them.

A clerk sees only persons attached to or booked at a clinic of their scope
(`permissions.patients_visible_to`), and of them only what happens at those clinics:
appointments, waitlist entries and offers elsewhere are another registry's business.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from portal.patients.models import Guardianship, Patient
from portal.patients.validators import name_key
from portal.scheduling.models import Appointment, Slot
from portal.scheduling.tickets import ticket_code_candidates
from portal.staff.permissions import AnyUser, clinic_scope_for
from portal.waitlist.models import Offer, WaitlistEntry
from portal.workspace.permissions import patients_visible_to

CARD_SEARCH_MAX = 20
PAST_SHOWN = 20


def tickets_find_for_staff(user: AnyUser, text: str) -> list[Appointment]:
    """The appointments of the staff's clinics whose ticket the typed or scanned text may
    be (`scheduling.tickets`: either keyboard layout, a scanner's URL)."""
    candidates = ticket_code_candidates(text)
    if not candidates:
        return []
    return list(
        Appointment.objects.filter(
            ticket_number__in=candidates, slot__doctor__clinic__in=clinic_scope_for(user)
        )
        .select_related("patient", "slot__doctor__clinic", "slot__doctor__specialty")
        .order_by("-starts_at")[:CARD_SEARCH_MAX]
    )


def card_search(
    user: AnyUser,
    *,
    policy: str = "",
    last_name: str = "",
    birth_date: datetime.date | None = None,
    ticket: str = "",
) -> list[Patient]:
    """Exact look-ups only, as the registry search (a policy, a surname with a birth date,
    or a ticket), among the patients the staff member may see."""
    if ticket:
        found = tickets_find_for_staff(user, ticket)
        return _unique([appointment.patient for appointment in found])
    visible = patients_visible_to(user).select_related("clinic")
    if policy:
        return list(visible.filter(policy_number=policy).order_by("last_name")[:CARD_SEARCH_MAX])
    if birth_date is None or not last_name:
        return []
    wanted = name_key(last_name)
    return [
        patient
        for patient in visible.filter(birth_date=birth_date).order_by("last_name")[:500]
        if name_key(patient.last_name) == wanted
    ][:CARD_SEARCH_MAX]


def _unique(patients: list[Patient]) -> list[Patient]:
    seen: dict[int, Patient] = {}
    for patient in patients:
        seen.setdefault(patient.pk, patient)
    return list(seen.values())


@dataclass(frozen=True)
class Card:
    upcoming: list[Appointment]
    past: list[Appointment]
    entries: list[WaitlistEntry]
    offers: list[Offer]
    guardians: list[Guardianship]


def _appointments(user: AnyUser, patient: Patient) -> QuerySet[Appointment]:
    return Appointment.objects.filter(
        patient=patient, slot__doctor__clinic__in=clinic_scope_for(user)
    ).select_related("slot__doctor__clinic", "slot__doctor__specialty", "booked_by")


def card_of(user: AnyUser, patient: Patient) -> Card:
    """What the card shows; the caller fetched ``patient`` with `patient_get_for_staff`."""
    now = timezone.now()
    scope = clinic_scope_for(user)
    appointments = _appointments(user, patient)
    upcoming = appointments.filter(starts_at__gte=now).order_by("starts_at", "pk")
    past = appointments.filter(starts_at__lt=now).order_by("-starts_at", "-pk")[:PAST_SHOWN]
    entries = (
        WaitlistEntry.objects.filter(patient=patient, clinic__in=scope)
        .select_related("clinic", "specialty", "doctor")
        .order_by("-created_at")[:PAST_SHOWN]
    )
    offers = (
        Offer.objects.filter(patient=patient, slot__doctor__clinic__in=scope)
        .select_related("slot__doctor__specialty")
        .order_by("-expires_at")[:PAST_SHOWN]
    )
    guardians = Guardianship.objects.filter(child=patient, ended_at__isnull=True).select_related(
        "guardian"
    )
    return Card(list(upcoming), list(past), list(entries), list(offers), list(guardians))


MOVE_SLOTS_MAX = 60


def move_free_slots(appointment: Appointment, day: datetime.date) -> list[Slot]:
    """Free times of the day at the appointment's clinic in its specialty (the same doctor or
    a colleague), open for booking now — what `appointment_reschedule` may accept. The
    booking service decides again under its locks."""
    now = timezone.now()
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    doctor = appointment.slot.doctor
    return list(
        Slot.objects.filter(
            doctor__clinic_id=doctor.clinic_id,
            doctor__specialty_id=appointment.specialty_id,
            doctor__is_active=True,
            status=Slot.Status.FREE,
            opens_at__lte=now,
            starts_at__gt=now,
            starts_at__gte=start,
            starts_at__lt=start + datetime.timedelta(days=1),
        )
        .filter(Q(held_until__isnull=True) | Q(held_until__lte=now))
        .exclude(pk=appointment.slot_id)
        .select_related("doctor__specialty")
        .order_by("starts_at", "doctor__last_name")[:MOVE_SLOTS_MAX]
    )
