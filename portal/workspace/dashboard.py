"""The figures of a clinic's dashboard, per specialty (reads only; docs/workspace.md).

- free slots in the next 14 days;
- time to the third next available slot (days): the waiting-time measure of the NHS and
  IHI — the third, not the first, so one lucky cancellation does not hide a long queue;
- no-show rate over the last 30 days: no-shows / (attended + no-shows);
- cancellation lead time over the last 30 days: median hours between a cancellation and
  the appointment's start;
- bookings of the last 30 days by channel: the portal (a citizen booked) or the phone (a
  clinic's staff booked; the API is a later channel).
"""

import datetime
import statistics
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import number_format

from portal.directory.models import Clinic, Specialty
from portal.scheduling.models import Appointment, Slot
from portal.staff.models import StaffMember

HORIZON = datetime.timedelta(days=14)
WINDOW = datetime.timedelta(days=30)
CHANNELS = ("portal", "phone")


@dataclass
class SpecialtyFigures:
    specialty: Specialty
    free_slots: int = 0
    third_available_days: float | None = None
    attended: int = 0
    no_show: int = 0
    cancel_lead_hours: float | None = None
    bookings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHANNELS, 0))

    @property
    def no_show_rate(self) -> float | None:
        seen = self.attended + self.no_show
        return self.no_show / seen if seen else None


def clinic_dashboard(clinic: Clinic) -> list[SpecialtyFigures]:
    """One row per specialty with doctors at ``clinic``; a few grouped queries in all."""
    now = timezone.now()
    specialties = Specialty.objects.filter(doctors__clinic=clinic).distinct().order_by("name")
    rows = {s.pk: SpecialtyFigures(specialty=s) for s in specialties}

    free = Slot.objects.filter(
        doctor__clinic=clinic,
        status=Slot.Status.FREE,
        starts_at__gt=now,
        starts_at__lte=now + HORIZON,
    )
    for specialty_id, count in free.values_list("doctor__specialty_id").annotate(n=Count("pk")):
        rows[specialty_id].free_slots = count
    for specialty_id, row in rows.items():
        third = (
            Slot.objects.filter(
                doctor__clinic=clinic,
                doctor__specialty_id=specialty_id,
                status=Slot.Status.FREE,
                starts_at__gt=now,
                opens_at__lte=now,
            )
            .order_by("starts_at")
            .values_list("starts_at", flat=True)[2:3]
        )
        if third:
            row.third_available_days = (third[0] - now).total_seconds() / 86400

    recent = Appointment.objects.filter(slot__doctor__clinic=clinic)
    seen = (
        recent.filter(starts_at__gte=now - WINDOW, starts_at__lte=now)
        .values("specialty_id")
        .annotate(
            attended=Count("pk", filter=Q(status=Appointment.Status.ATTENDED)),
            no_show=Count("pk", filter=Q(status=Appointment.Status.NO_SHOW)),
        )
    )
    for item in seen:
        if item["specialty_id"] in rows:
            rows[item["specialty_id"]].attended = item["attended"]
            rows[item["specialty_id"]].no_show = item["no_show"]

    leads: dict[int, list[float]] = {}
    for specialty_id, starts_at, cancelled_at in recent.filter(
        cancelled_at__gte=now - WINDOW
    ).values_list("specialty_id", "starts_at", "cancelled_at"):
        if cancelled_at is not None:
            hours = (starts_at - cancelled_at).total_seconds() / 3600
            leads.setdefault(specialty_id, []).append(hours)
    for specialty_id, lead_hours in leads.items():
        if specialty_id in rows:
            rows[specialty_id].cancel_lead_hours = statistics.median(lead_hours)

    staff_ids = StaffMember.objects.values("user_id")
    booked = (
        recent.filter(created_at__gte=now - WINDOW)
        .values("specialty_id")
        .annotate(
            phone=Count("pk", filter=Q(booked_by__in=staff_ids)),
            total=Count("pk"),
        )
    )
    for channels in booked:
        if channels["specialty_id"] in rows:
            rows[channels["specialty_id"]].bookings = {
                "portal": channels["total"] - channels["phone"],
                "phone": channels["phone"],
            }
    return list(rows.values())


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    width: float  # of the chart's bar area, 0..1
    y: int
    text: str


def _bar_text(value: float, unit: str) -> str:
    """«1,8 дн.», as the table beside the chart writes it (Russian decimal comma; issue 27
    found «1.8 дн.» in the chart beside «1,8 дн.» in the table)."""
    number = number_format(round(value, 1), decimal_pos=0 if value == int(value) else 1)
    return f"{number} {unit}".strip()


def bars(labels_values: list[tuple[str, float | None]], unit: str) -> list[Bar]:
    """Horizontal bars for a server-rendered SVG chart (no JavaScript, no CDN)."""
    top = max((v for _, v in labels_values if v is not None), default=0) or 1
    return [
        Bar(
            label=label,
            value=value or 0,
            width=(value or 0) / top,
            y=index * 28,
            text="—" if value is None else _bar_text(value, unit),
        )
        for index, (label, value) in enumerate(labels_values)
    ]
