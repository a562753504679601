"""Reads for «Перенести»: where a booked appointment may move, and when (the move
itself is decided under the locks by `cancellation.appointment_reschedule`)."""

import datetime
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from portal.directory.models import Doctor
from portal.scheduling import rules
from portal.scheduling.models import Appointment, Slot
from portal.scheduling.selectors import appointments_list_active, bookable_q

# The first page of a move shows each doctor's nearest times; any other day is one link
# away (`move_days`, `move_times`), as in the booking wizard.
RESCHEDULE_TIMES_PER_DOCTOR = 6


@dataclass(frozen=True)
class DoctorTimes:
    doctor: Doctor
    slots: list[Slot]


def move_doctors(appointment: Appointment) -> list[Doctor]:
    """Whom ``appointment`` may move to: its doctor first, then the active colleagues of
    the same specialty at the same clinic (the rule `rules.reschedule_refusal` checks)."""
    own = appointment.slot.doctor
    doctors = list(
        Doctor.objects.filter(clinic_id=own.clinic_id, specialty_id=appointment.specialty_id)
        .filter(Q(is_active=True) | Q(pk=own.pk))
        .select_related("clinic", "specialty")
    )
    doctors.sort(key=lambda d: (d.pk != own.pk, d.last_name, d.first_name))
    return doctors


def move_doctor_get(appointment: Appointment, doctor_id: int) -> Doctor:
    """One of `move_doctors`, or 404: another clinic's or specialty's doctor is no target."""
    for doctor in move_doctors(appointment):
        if doctor.pk == doctor_id:
            return doctor
    raise Http404


def _move_free(appointment: Appointment, doctor_ids: Collection[int]) -> list[Slot]:
    """Bookable times of these doctors the patient could move to: not the current one,
    and none overlapping the patient's other appointments (they would be refused)."""
    now = timezone.now()
    others = [
        a for a in appointments_list_active(appointment.patient, now) if a.pk != appointment.pk
    ]
    rows = (
        Slot.objects.filter(bookable_q(now), doctor_id__in=doctor_ids)
        .exclude(pk=appointment.slot_id)
        .order_by("starts_at")
    )
    return [slot for slot in rows if not rules.overlaps(slot, others)]


def slots_list_for_reschedule(appointment: Appointment) -> list[DoctorTimes]:
    """Where ``appointment`` may move soonest: each doctor of `move_doctors` with their
    earliest times (two queries). The move itself is decided under the locks."""
    doctors = move_doctors(appointment)
    by_doctor: dict[int, list[Slot]] = {d.pk: [] for d in doctors}
    for slot in _move_free(appointment, by_doctor):
        times = by_doctor[slot.doctor_id]
        if len(times) < RESCHEDULE_TIMES_PER_DOCTOR:
            times.append(slot)
    own = appointment.slot.doctor_id
    return [DoctorTimes(d, by_doctor[d.pk]) for d in doctors if d.pk == own or by_doctor[d.pk]]


def move_days(appointment: Appointment, doctor: Doctor) -> list[tuple[datetime.date, int]]:
    """The doctor's local dates with times the appointment could move to, and how many."""
    days: OrderedDict[datetime.date, int] = OrderedDict()
    for slot in _move_free(appointment, [doctor.pk]):
        day = timezone.localtime(slot.starts_at).date()
        days[day] = days.get(day, 0) + 1
    return list(days.items())


def move_times(appointment: Appointment, doctor: Doctor, day: datetime.date) -> list[Slot]:
    """The doctor's times on ``day`` the appointment could move to."""
    return [
        slot
        for slot in _move_free(appointment, [doctor.pk])
        if timezone.localtime(slot.starts_at).date() == day
    ]
