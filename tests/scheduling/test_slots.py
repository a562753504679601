"""Slot generation: idempotent, holidays skipped, absences block, opening moment."""

import datetime
import io
from zoneinfo import ZoneInfo

import holidays
from django.core.management import call_command
from django.utils import timezone

from portal.scheduling.models import Absence, ScheduleRule, Slot
from portal.scheduling.slot_generation import slots_generate
from tests.factories import DoctorFactory

IRKUTSK = ZoneInfo("Asia/Irkutsk")


def _quiet_monday() -> datetime.date:
    """A Monday a month or more ahead whose Monday–Friday has no public holiday."""
    day = timezone.localdate() + datetime.timedelta(days=30)
    day += datetime.timedelta(days=-day.weekday() % 7)
    while True:
        week = [day + datetime.timedelta(days=n) for n in range(5)]
        if not any(d in holidays.country_holidays("RU", years=d.year) for d in week):
            return day
        day += datetime.timedelta(days=7)


MONDAY = _quiet_monday()
NEW_YEAR = datetime.date(timezone.localdate().year + 1, 1, 1)


def rule(doctor, **kwargs):
    defaults = {
        "weekdays": "12345",
        "start_time": datetime.time(8, 0),
        "end_time": datetime.time(12, 0),
        "break_start": datetime.time(10, 0),
        "break_end": datetime.time(10, 30),
        "slot_minutes": 30,
    }
    return ScheduleRule.objects.create(doctor=doctor, **{**defaults, **kwargs})


def test_slots_follow_the_rule_skip_the_break_and_weekends_and_open_at_seven(db):
    doctor = DoctorFactory()
    rule(doctor)
    slots_generate(start=MONDAY, days=7)
    starts = [s.starts_at.astimezone(IRKUTSK) for s in Slot.objects.order_by("starts_at")]
    assert len(starts) == 5 * 7  # 8:00–10:00 and 10:30–12:00 by 30 minutes, Mon–Fri
    at = datetime.datetime.combine
    assert starts[0] == at(MONDAY, datetime.time(8, 0), tzinfo=IRKUTSK)
    assert at(MONDAY, datetime.time(10, 0), tzinfo=IRKUTSK) not in starts
    first = Slot.objects.order_by("starts_at").first()
    two_weeks_before = MONDAY - datetime.timedelta(days=14)
    assert first.opens_at == at(two_weeks_before, datetime.time(7, 0), tzinfo=IRKUTSK)


def test_generation_is_idempotent(db):
    rule(DoctorFactory())
    slots_generate(start=MONDAY, days=7)
    before = Slot.objects.count()
    call_command(
        "generate_slots", "--start", MONDAY.isoformat(), "--days", "7", stdout=io.StringIO()
    )
    assert Slot.objects.count() == before


def test_russian_public_holidays_get_no_slots(db):
    rule(DoctorFactory(), weekdays="1234567")
    slots_generate(start=NEW_YEAR, days=14)
    days = {s.starts_at.astimezone(IRKUTSK).date() for s in Slot.objects.all()}
    assert NEW_YEAR not in days  # New Year holidays
    assert NEW_YEAR.replace(day=7) not in days  # Orthodox Christmas
    assert NEW_YEAR.replace(day=14) in days


def test_an_absence_blocks_new_and_already_generated_slots(db):
    doctor = DoctorFactory()
    rule(doctor)
    slots_generate(start=MONDAY, days=2)
    Absence.objects.create(
        doctor=doctor,
        kind=Absence.Kind.SICK,
        starts_on=MONDAY,
        ends_on=MONDAY + datetime.timedelta(days=2),
    )
    slots_generate(start=MONDAY, days=5)
    by_day: dict[datetime.date, set[str]] = {}
    for s in Slot.objects.all():
        by_day.setdefault(s.starts_at.astimezone(IRKUTSK).date(), set()).add(s.status)
    assert by_day[MONDAY] == {"blocked"}
    assert by_day[MONDAY + datetime.timedelta(days=2)] == {"blocked"}
    assert by_day[MONDAY + datetime.timedelta(days=3)] == {"free"}


def test_the_demo_opens_some_slots_now_and_some_tomorrow_at_seven(db, settings):
    """On a day whose day past the horizon is a working Wednesday: only some demo doctors
    work weekends, so on a Saturday the factory's ten might leave that day empty."""
    import time_machine

    from portal.demo import schedules as demo
    from tests.demo.days import at_ten, next_weekday_opening_a_working_day

    wednesday = 2
    weekday = (wednesday - settings.SCHEDULING_HORIZON_DAYS - 1) % 7
    with time_machine.travel(at_ten(next_weekday_opening_a_working_day(weekday))):
        _demo_opens_now_and_tomorrow(demo)


def _demo_opens_now_and_tomorrow(demo) -> None:
    for _ in range(10):
        DoctorFactory()
    demo.load(log=lambda _: None)
    now = datetime.datetime.now(datetime.UTC)
    assert Slot.objects.filter(opens_at__lte=now, starts_at__gt=now, status="free").exists()
    # The day past the horizon opens tomorrow at 07:00 (unless it is a public holiday).
    later = {s.opens_at.astimezone(IRKUTSK) for s in Slot.objects.filter(opens_at__gt=now)}
    assert later
    assert {t.time() for t in later} == {datetime.time(7, 0)}
    count = Slot.objects.count()
    demo.load(log=lambda _: None)
    assert Slot.objects.count() == count
