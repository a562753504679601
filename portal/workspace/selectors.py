import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from portal.directory.models import Clinic, Doctor, Specialty
from portal.patients.models import Guardianship, InsuredPerson
from portal.patients.validators import name_key
from portal.scheduling.models import Absence, Appointment, Slot
from portal.staff.permissions import AnyUser
from portal.workspace.permissions import guardianships_in_scope


def _local_day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


def day_list_appointments(
    clinic: Clinic,
    day: datetime.date,
    *,
    doctor: Doctor | None = None,
    specialty: Specialty | None = None,
    room: str = "",
) -> QuerySet[Appointment]:
    """The clinic's appointments of one local day, all doctors by time or one doctor,
    cancelled ones included (they explain a gap in the list). The caller took ``clinic``
    and ``doctor`` from the staff scope."""
    start, end = _local_day_bounds(day)
    appointments = Appointment.objects.filter(
        slot__doctor__clinic=clinic, starts_at__gte=start, starts_at__lt=end
    )
    if doctor is not None:
        appointments = appointments.filter(slot__doctor=doctor)
    if specialty is not None:
        appointments = appointments.filter(slot__doctor__specialty=specialty)
    if room:
        appointments = appointments.filter(slot__doctor__room=room)
    return appointments.select_related("patient", "slot__doctor__specialty").order_by(
        "starts_at", "slot__doctor__last_name", "pk"
    )


def absence_preview(
    doctor: Doctor, starts_on: datetime.date, ends_on: datetime.date
) -> dict[str, Any]:
    """What an absence would change, shown before it is recorded (nothing is silent)."""
    since, _ = _local_day_bounds(starts_on)
    _, until = _local_day_bounds(ends_on)
    in_range = {"starts_at__gte": max(since, timezone.now()), "starts_at__lt": until}
    booked = (
        Appointment.objects.filter(
            slot__doctor=doctor, status=Appointment.Status.BOOKED, **in_range
        )
        .select_related("patient")
        .order_by("starts_at")
    )
    free = Slot.objects.filter(doctor=doctor, status=Slot.Status.FREE, **in_range).count()
    return {"booked": list(booked), "free": free}


def absences_in_scope(doctors: QuerySet[Doctor]) -> QuerySet[Absence]:
    return (
        Absence.objects.filter(doctor__in=doctors, ends_on__gte=timezone.localdate())
        .select_related("doctor__clinic", "doctor__specialty")
        .order_by("starts_on", "doctor__last_name")
    )


REGISTRY_RESULTS_MAX = 20
PHONE_SLOTS_MAX = 40


def registry_search(
    *, policy: str, last_name: str, first_name: str, birth_date: datetime.date | None
) -> list[InsuredPerson]:
    """Exact look-ups only (a policy, or a name with a birth date): the registry is not a
    directory to browse. Names compare as the relatives' check does (case, ё = е)."""
    persons = InsuredPerson.objects.select_related("clinic", "insurer")
    if policy:
        return list(persons.filter(policy_number=policy)[:REGISTRY_RESULTS_MAX])
    if birth_date is None:
        return []
    wanted = (name_key(last_name), name_key(first_name))
    return [
        person
        for person in persons.filter(birth_date=birth_date).order_by("last_name")[:500]
        if (name_key(person.last_name), name_key(person.first_name)) == wanted
    ][:REGISTRY_RESULTS_MAX]


def phone_free_slots(doctor: Doctor) -> list[Slot]:
    """The doctor's free slots open for booking now, nearest first (the portal's rule)."""
    now = timezone.now()
    return list(
        Slot.objects.filter(
            doctor=doctor, status=Slot.Status.FREE, opens_at__lte=now, starts_at__gt=now
        ).order_by("starts_at")[:PHONE_SLOTS_MAX]
    )


def guardianships_pending(user: AnyUser) -> list[Guardianship]:
    """Unverified guardianships of children attached to the user's clinics, oldest first
    (they have waited longest)."""
    return list(
        guardianships_in_scope(user)
        .filter(verified_at__isnull=True)
        .select_related("child__clinic", "guardian")
        .order_by("created_at", "pk")[:200]
    )
