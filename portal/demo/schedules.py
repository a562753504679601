"""Demo schedules: a rule for every doctor and the slots of the booking horizon.

Called by `manage.py load_demo` after the directory and the registry. Idempotent:
doctors that already have a rule keep it, existing slots are left alone. Slots are
generated up to two days beyond the horizon, so `make run` shows both bookable times
and times that open tomorrow at 07:00.
"""

import datetime
import time
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

from portal.directory.models import Doctor
from portal.scheduling.models import Absence, ScheduleRule
from portal.scheduling.slot_generation import slots_generate

MORNING = (datetime.time(8, 0), datetime.time(14, 0))
AFTERNOON = (datetime.time(13, 0), datetime.time(19, 0))


def _rule_for(doctor_id: int) -> ScheduleRule:
    start, end = MORNING if doctor_id % 2 else AFTERNOON
    # Every tenth doctor also sees patients at weekends, so some times open every morning.
    weekdays = "1234567" if doctor_id % 10 == 0 else "12345"
    return ScheduleRule(
        doctor_id=doctor_id,
        weekdays=weekdays,
        start_time=start,
        end_time=end,
        slot_minutes=20,
        days_ahead=settings.SCHEDULING_HORIZON_DAYS,
        opens_at=datetime.time(7, 0),
    )


def load(scale: int = 1, log: Callable[[str], None] = print) -> None:
    started = time.monotonic()
    without_rule = Doctor.objects.filter(is_active=True, schedule_rules__isnull=True)
    rules = [_rule_for(pk) for pk in without_rule.values_list("pk", flat=True)]
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
            for pk in Doctor.objects.values_list("pk", flat=True)[::50]
        )
    # Two days past the horizon: the last one opens tomorrow at 07:00.
    total = slots_generate(start=today, days=settings.SCHEDULING_HORIZON_DAYS + 2, log=log)
    log(
        f"Расписание: {len(rules)} новых правил, {total} слотов проверено "
        f"за {time.monotonic() - started:.1f} с"
    )
