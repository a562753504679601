"""Demo schedules: a rule for every doctor and the slots of the booking horizon.

Called by `manage.py load_demo` after the directory and the registry. Idempotent:
doctors that already have a rule keep it, existing slots are left alone, and only the
days a doctor still lacks are generated (a second `make run` the same day inserts
nothing). Slots are generated up to two days beyond the horizon, so `make run` shows
both bookable times and times that open tomorrow at 07:00.

A doctor's hours, weekend work and vacation follow from stable facts — the clinic's
name, the specialty and the doctor's place among the clinic's doctors of that specialty
— never from a database id, which differs between databases and keeps counting across
tests, and never from the weekday the demo is loaded on.
"""

import datetime
import time
import zlib
from collections.abc import Callable, Iterable

import holidays
from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from portal.directory.models import Doctor
from portal.scheduling.models import Absence, ScheduleRule, Slot
from portal.scheduling.slot_generation import slots_generate

MORNING = (datetime.time(8, 0), datetime.time(14, 0))
AFTERNOON = (datetime.time(13, 0), datetime.time(19, 0))
# One doctor in WEEKEND_EVERY also sees patients at weekends, so some times open every
# morning; one in VACATION_EVERY is on vacation next week.
WEEKEND_EVERY = 10
VACATION_EVERY = 50


def doctor_key(clinic_name: str, specialty_code: str, place: int) -> int:
    """A stable number for the ``place``-th doctor (0-based, in the order they were
    added) of a specialty in a clinic: the same in every database and on every day."""
    return zlib.crc32(f"{clinic_name}|{specialty_code}|{place}".encode())


def rule_for(doctor_id: int, key: int) -> ScheduleRule:
    start, end = MORNING if key % 2 else AFTERNOON
    weekdays = "1234567" if key % WEEKEND_EVERY == 0 else "12345"
    return ScheduleRule(
        doctor_id=doctor_id,
        weekdays=weekdays,
        start_time=start,
        end_time=end,
        slot_minutes=20,
        days_ahead=settings.SCHEDULING_HORIZON_DAYS,
        opens_at=datetime.time(7, 0),
    )


def doctor_keys() -> dict[int, int]:
    """Every doctor's `doctor_key`, by doctor id."""
    rows = Doctor.objects.order_by("clinic_id", "specialty_id", "pk").values_list(
        "pk", "clinic_id", "clinic__short_name", "specialty_id", "specialty__code"
    )
    keys: dict[int, int] = {}
    group: tuple[int, int] | None = None
    place = 0
    for pk, clinic_id, clinic_name, specialty_id, code in rows:
        place = place + 1 if group == (clinic_id, specialty_id) else 0
        group = (clinic_id, specialty_id)
        keys[pk] = doctor_key(clinic_name, code, place)
    return keys


def _missing_from(
    rules: Iterable[ScheduleRule],
    last_slot: dict[int, datetime.date],
    today: datetime.date,
    end: datetime.date,
) -> dict[datetime.date, list[int]]:
    """Doctors grouped by the first day (today … end) they have no slots for yet although
    their rule applies and it is no public holiday; doctors with nothing missing are left
    out. Days are generated in order, so an interrupted run leaves a prefix: everything
    after a doctor's last slot is what is missing."""
    days = [today + datetime.timedelta(days=n) for n in range((end - today).days + 1)]
    closed = holidays.country_holidays("RU", years={d.year for d in days})
    groups: dict[datetime.date, list[int]] = {}
    for rule in rules:
        after = last_slot.get(rule.doctor_id)
        for day in days:
            if (after is None or day > after) and rule.applies_on(day) and day not in closed:
                groups.setdefault(day, []).append(rule.doctor_id)
                break
    return groups


def load(scale: int = 1, log: Callable[[str], None] = print) -> None:
    started = time.monotonic()
    keys = doctor_keys()
    without_rule = Doctor.objects.filter(is_active=True, schedule_rules__isnull=True)
    rules = [rule_for(pk, keys[pk]) for pk in without_rule.values_list("pk", flat=True)]
    ScheduleRule.objects.bulk_create(rules, batch_size=2000)

    today = timezone.localdate()
    if not Absence.objects.exists():
        # A few doctors on vacation next week: their slots there are blocked.
        Absence.objects.bulk_create(
            Absence(
                doctor_id=pk,
                kind=Absence.Kind.VACATION,
                starts_on=today + datetime.timedelta(days=7),
                ends_on=today + datetime.timedelta(days=9),
            )
            for pk, key in sorted(keys.items())
            if key % VACATION_EVERY == VACATION_EVERY // 2
        )
    # Two days past the horizon: the last one opens tomorrow at 07:00.
    end = today + datetime.timedelta(days=settings.SCHEDULING_HORIZON_DAYS + 1)
    tz = timezone.get_current_timezone()
    # Each doctor's last slot up to the end (one probe of the unique (doctor, starts_at)
    # index per doctor); a day the fair-release demo generated beyond the end is no
    # reason to skip the days before it.
    until = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tz)
    latest = Slot.objects.filter(doctor_id=OuterRef("doctor_id"), starts_at__lt=until)
    active = list(
        ScheduleRule.objects.filter(doctor__is_active=True).annotate(
            last=Subquery(latest.order_by("-starts_at").values("starts_at")[:1])
        )
    )
    last_slot = {
        rule.doctor_id: timezone.localtime(rule.last, tz).date() for rule in active if rule.last
    }
    groups = _missing_from(active, last_slot, today, end)
    every = {rule.doctor_id for rule in active}
    total = 0
    for start, doctor_ids in sorted(groups.items()):
        total += slots_generate(
            start=start,
            days=(end - start).days + 1,
            doctor_ids=None if set(doctor_ids) == every else doctor_ids,
            log=log,
        )
    log(
        f"Расписание: {len(rules)} новых правил, {total} слотов проверено "
        f"за {time.monotonic() - started:.1f} с"
    )
