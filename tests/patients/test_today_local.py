"""The region's date is kept for the minute it was asked in (`patients.rules.today_local`):
it must still turn at the region's midnight, and follow a changed time zone."""

import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

from portal.patients.rules import today_local

IRKUTSK = ZoneInfo("Asia/Irkutsk")


def _next_midnight_in_irkutsk() -> datetime.datetime:
    tomorrow = timezone.now().astimezone(IRKUTSK).date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(tomorrow, datetime.time(0, 0), tzinfo=IRKUTSK)


def test_the_date_turns_at_the_regions_midnight_within_one_process(settings):
    settings.TIME_ZONE = "Asia/Irkutsk"
    midnight = _next_midnight_in_irkutsk()
    with time_machine.travel(midnight - datetime.timedelta(seconds=1), tick=False):
        assert today_local() == midnight.date() - datetime.timedelta(days=1)
        assert today_local() == midnight.date() - datetime.timedelta(days=1)  # kept
    with time_machine.travel(midnight, tick=False):
        assert today_local() == midnight.date()


def test_a_changed_time_zone_gives_its_own_date_in_the_same_minute(settings):
    # 20:30 in Moscow is 02:30 the next day in Irkutsk.
    moscow_evening = datetime.datetime.combine(
        _next_midnight_in_irkutsk().date(), datetime.time(20, 30), tzinfo=ZoneInfo("Europe/Moscow")
    )
    with time_machine.travel(moscow_evening, tick=False):
        settings.TIME_ZONE = "Europe/Moscow"
        in_moscow = today_local()
        settings.TIME_ZONE = "Asia/Irkutsk"
        assert today_local() == in_moscow + datetime.timedelta(days=1)
