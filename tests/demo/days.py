"""Days to freeze the clock on, computed from today (time-machine moves the clock)."""

import datetime
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings

TZ = ZoneInfo(settings.TIME_ZONE)
SATURDAY, MONDAY = 5, 0


def next_weekday(weekday: int) -> datetime.date:
    """The next such weekday after today (never today: the frozen day is a real change)."""
    today = datetime.date.today()
    return today + datetime.timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def next_weekday_opening_a_working_day(weekday: int) -> datetime.date:
    """The next such weekday whose day past the demo's horizon (the one that opens
    tomorrow at 07:00) is no public holiday, so the demo has times opening tomorrow."""
    day = next_weekday(weekday)
    ahead = datetime.timedelta(days=settings.SCHEDULING_HORIZON_DAYS + 1)
    while day + ahead in holidays.country_holidays("RU", years=(day + ahead).year):
        day += datetime.timedelta(days=7)
    return day


def next_december_17() -> datetime.date:
    """Fifteen days later it is 1 January: the day past the demo's horizon is a public
    holiday, and so is every day after it until 8 January."""
    today = datetime.date.today()
    day = datetime.date(today.year, 12, 17)
    return day if day > today else day.replace(year=today.year + 1)


def at_ten(day: datetime.date) -> datetime.datetime:
    """10:00 in the region on ``day``: after the daily opening at 07:00."""
    return datetime.datetime.combine(day, datetime.time(10, 0), tzinfo=TZ)
