"""Home-visit fixtures: a valid request's data and a district doctor of the guardian's
clinic; dates are computed from today."""

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from django.conf import settings

from portal.home_visits.services import VisitData
from tests.factories import DoctorFactory

TZ = ZoneInfo(settings.TIME_ZONE)


def working_days_from(start: datetime.date, weekdays: str = "12345"):
    """Working days (clinic weekdays, no Russian holiday) from ``start`` on."""
    day = start
    while True:
        if str(day.isoweekday()) in weekdays and day not in holidays.country_holidays(
            "RU", years=day.year
        ):
            yield day
        day += datetime.timedelta(days=1)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=TZ)


def valid_data(**changes) -> VisitData:
    values: dict[str, Any] = {
        "address": "г. Иркутск, ул. Ленина, д. 5",
        "apartment": "12",
        "entrance": "2",
        "floor": "3",
        "intercom": "12#345",
        "phone": "+7 914 123-45-67",
        "symptoms": ["fever", "cough"],
        "temperature": "38,5",
        "details": "Температура со вчерашнего вечера",
        "consent": True,
        "red_flags": [],
    }
    values.update(changes)
    return VisitData(**values)


@pytest.fixture
def district_doctor(home_clinic):
    return DoctorFactory(clinic=home_clinic, area="5", last_name="Педиатрова")


@pytest.fixture
def other_doctor(home_clinic):
    return DoctorFactory(clinic=home_clinic, area="7", last_name="Андреев")
