import datetime

from django.conf import settings
from django.db.models import QuerySet

from portal.directory.models import Doctor
from portal.scheduling.models import Appointment


def _local_day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    from zoneinfo import ZoneInfo

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
