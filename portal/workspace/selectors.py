import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from portal.directory.models import Doctor
from portal.scheduling.models import Absence, Appointment, Slot


def _local_day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


def day_list_appointments(doctor: Doctor, day: datetime.date) -> QuerySet[Appointment]:
    """The doctor's appointments of one local day, cancelled ones included (they explain
    a gap in the list). The caller fetched ``doctor`` inside the staff scope."""
    start, end = _local_day_bounds(day)
    return (
        Appointment.objects.filter(slot__doctor=doctor, starts_at__gte=start, starts_at__lt=end)
        .select_related("patient")
        .order_by("starts_at", "pk")
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
