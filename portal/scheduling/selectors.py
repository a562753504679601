"""Reads of the booking area. Every list is a fixed number of queries, whatever the data."""

import datetime
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from portal.directory.models import Clinic, District, Doctor, Specialty
from portal.patients.selectors import appointments_visible_to, patient_ids_actable_by
from portal.scheduling.models import Appointment, Slot


def bookable_q(now: datetime.datetime, prefix: str = "") -> Q:
    """Free, already open for online booking and still in the future."""
    return Q(
        **{
            f"{prefix}status": Slot.Status.FREE,
            f"{prefix}opens_at__lte": now,
            f"{prefix}starts_at__gt": now,
        }
    )


def district_get(district_id: int) -> District:
    return get_object_or_404(District, pk=district_id)


def clinic_get(clinic_id: int) -> Clinic:
    return get_object_or_404(Clinic.objects.select_related("district"), pk=clinic_id)


def specialty_get(specialty_id: int) -> Specialty:
    return get_object_or_404(Specialty, pk=specialty_id)


def doctor_get(doctor_id: int) -> Doctor:
    return get_object_or_404(
        Doctor.objects.select_related("clinic__district", "specialty"), pk=doctor_id, is_active=True
    )


def specialties_at_clinic(clinic: Clinic) -> QuerySet[Specialty]:
    return (
        Specialty.objects.filter(doctors__clinic=clinic, doctors__is_active=True)
        .distinct()
        .order_by("name")
    )


def doctors_with_nearest(clinic: Clinic, specialty: Specialty) -> QuerySet[Doctor]:
    """The clinic's doctors of a specialty, each with ``nearest`` (first bookable start)."""
    now = timezone.now()
    return (
        Doctor.objects.filter(clinic=clinic, specialty=specialty, is_active=True)
        .annotate(nearest=Min("slots__starts_at", filter=bookable_q(now, "slots__")))
        .order_by("last_name", "first_name")
    )


def free_days(doctor: Doctor) -> list[tuple[datetime.date, int]]:
    """Local dates with bookable slots, and how many, in order."""
    now = timezone.now()
    days: OrderedDict[datetime.date, int] = OrderedDict()
    for start in (
        Slot.objects.filter(bookable_q(now), doctor=doctor)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
    ):
        day = timezone.localtime(start).date()
        days[day] = days.get(day, 0) + 1
    return list(days.items())


def free_slots_on(doctor: Doctor, day: datetime.date) -> list[Slot]:
    now = timezone.now()
    tz = timezone.get_current_timezone()
    since = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return list(
        Slot.objects.filter(
            bookable_q(now),
            doctor=doctor,
            starts_at__gte=since,
            starts_at__lt=since + datetime.timedelta(days=1),
        ).order_by("starts_at")
    )


def slot_get_for_booking(slot_id: int) -> Slot:
    return get_object_or_404(
        Slot.objects.select_related("doctor__clinic__district", "doctor__specialty"), pk=slot_id
    )


NEAREST_LIMIT = 20


def slots_nearest_free(
    specialty: Specialty, *, district: District | None = None, clinic: Clinic | None = None
) -> list[Slot]:
    """«Ближайшее свободное время»: each doctor's earliest bookable slot, earliest first.

    At 07:00 thousands ask the same question at once. The ranking (the expensive part)
    is shared for NEAREST_CACHE_SECONDS; the slots themselves are always re-read, so a
    slot taken a moment ago drops out at once and booking re-checks under its lock anyway.
    """
    now = timezone.now()
    key = (
        f"nearest:{specialty.pk}:{district.pk if district else '-'}:{clinic.pk if clinic else '-'}"
    )
    slot_ids = cache.get(key)
    if slot_ids is None:
        slot_ids = _nearest_slot_ids(specialty, district=district, clinic=clinic, now=now)
        if settings.NEAREST_CACHE_SECONDS > 0:
            cache.set(key, slot_ids, settings.NEAREST_CACHE_SECONDS)
    return list(
        Slot.objects.filter(bookable_q(now), pk__in=slot_ids)
        .select_related("doctor__clinic", "doctor__specialty")
        .order_by("starts_at")
    )


def _nearest_slot_ids(
    specialty: Specialty,
    *,
    district: District | None,
    clinic: Clinic | None,
    now: datetime.datetime,
) -> list[int]:
    doctors = Doctor.objects.filter(specialty=specialty, is_active=True)
    if clinic is not None:
        doctors = doctors.filter(clinic=clinic)
    elif district is not None:
        doctors = doctors.filter(clinic__district=district)
    first = Slot.objects.filter(bookable_q(now), doctor=OuterRef("pk")).order_by("starts_at")
    # Rank doctors by their first free start inside the database and keep 20, so the
    # second query fetches 20 rows by primary key instead of every doctor's first slot.
    return list(
        doctors.annotate(
            first_slot=Subquery(first.values("pk")[:1]),
            first_start=Subquery(first.values("starts_at")[:1]),
        )
        .filter(first_start__isnull=False)
        .order_by("first_start")
        .values_list("first_slot", flat=True)[:NEAREST_LIMIT]
    )


def _appointments_of_user(user) -> QuerySet[Appointment]:
    return Appointment.objects.filter(patient_id__in=patient_ids_actable_by(user)).select_related(
        "patient", "specialty", "slot__doctor__clinic"
    )


def appointments_for_user(user) -> tuple[list[Appointment], list[Appointment]]:
    """«Мои записи»: upcoming active ones, and the last 50 others (past or cancelled).

    One view for a guardian: the user's own appointments and their children's.
    """
    now = timezone.now()
    # Who sees which appointment is the patients app's one rule (unverified guardians
    # see only what they booked).
    rows = _appointments_of_user(user).filter(appointments_visible_to(user))
    upcoming = list(rows.filter(status=Appointment.Status.BOOKED, starts_at__gt=now))
    history = list(
        rows.exclude(status=Appointment.Status.BOOKED, starts_at__gt=now).order_by("-starts_at")[
            :50
        ]
    )
    return upcoming, history


def appointment_get_for_user(user, appointment_id: int) -> Appointment:
    """One place that fetches an appointment and checks the user may see it (else 404)."""
    appointment = (
        _appointments_of_user(user).filter(appointments_visible_to(user), pk=appointment_id).first()
    )
    if appointment is None:
        raise Http404
    return appointment
