"""Each rule of a home visit, with dates computed from today (docs/home-visits.md)."""

import datetime

import holidays
import pytest

from portal.home_visits import rules
from portal.home_visits.models import ClinicHomeVisitSettings
from tests.home_visits.conftest import at, working_days_from

TODAY = datetime.date.today()


def _weekday_from(start: datetime.date, iso: int) -> datetime.date:
    """The first ``iso`` weekday on or after ``start`` whose week has no Russian holiday
    (so the test is about weekdays, not holidays)."""
    day = start
    while True:
        week = [day - datetime.timedelta(days=day.isoweekday() - 1 - i) for i in range(7)]
        ru = holidays.country_holidays("RU", years={d.year for d in week})
        if day.isoweekday() == iso and not any(d in ru for d in week):
            return day
        day += datetime.timedelta(days=1)


@pytest.mark.django_db
def test_before_the_cut_off_on_a_working_day_the_doctor_comes_today(home_clinic):
    day = _weekday_from(TODAY, 3)
    assert rules.visit_day(home_clinic, at(day, 11, 59)) == day


@pytest.mark.django_db
def test_after_the_cut_off_the_doctor_comes_the_next_working_day(home_clinic):
    day = _weekday_from(TODAY, 3)
    assert rules.visit_day(home_clinic, at(day, 12, 0)) == day + datetime.timedelta(days=1)


@pytest.mark.django_db
def test_friday_afternoon_goes_to_monday_and_a_weekend_morning_too(home_clinic):
    friday = _weekday_from(TODAY, 5)
    monday = friday + datetime.timedelta(days=3)
    assert rules.visit_day(home_clinic, at(friday, 15)) == monday
    assert rules.visit_day(home_clinic, at(friday + datetime.timedelta(days=1), 9)) == monday


@pytest.mark.django_db
def test_a_clinic_working_saturdays_with_its_own_cut_off(home_clinic):
    ClinicHomeVisitSettings.objects.create(
        clinic=home_clinic, cutoff_hour=14, working_weekdays="123456"
    )
    friday = _weekday_from(TODAY, 5)
    assert rules.visit_day(home_clinic, at(friday, 13)) == friday
    assert rules.visit_day(home_clinic, at(friday, 14)) == friday + datetime.timedelta(days=1)


@pytest.mark.django_db
def test_a_public_holiday_is_skipped(home_clinic):
    """The first Russian public holiday on a weekday from today: a request the evening
    before goes past it, to the next working day."""
    day = TODAY
    while True:
        ru = holidays.country_holidays("RU", years=day.year)
        if day in ru and day.isoweekday() <= 5:
            break
        day += datetime.timedelta(days=1)
    eve = day - datetime.timedelta(days=1)
    expected = next(working_days_from(day))
    assert expected > day
    assert rules.visit_day(home_clinic, at(eve, 18)) == expected
    assert rules.visit_day(home_clinic, at(day, 8)) == expected


@pytest.mark.django_db
def test_attachment_and_district(guardian, child):
    assert rules.attachment_refusal(child) is None
    assert rules.district_of(child) == "5"
    child.clinic = None
    assert rules.attachment_refusal(child) == "no_clinic"


@pytest.mark.parametrize("flag", sorted(rules.RED_FLAGS))
def test_every_red_flag_stops_the_form(flag):
    assert rules.red_flag_refusal([flag]) == "red_flag"


def test_no_red_flag_passes():
    assert rules.red_flag_refusal([]) is None
    assert rules.red_flag_refusal(["fever"]) is None


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        ((10, 0), (14, 0), True),
        ((14, 0), (10, 0), False),
        ((7, 0), (9, 0), False),
        ((9, 0), (16, 0), False),  # longer than six hours
        ((20, 0), (22, 0), False),
    ],
)
def test_time_window(start, end, ok):
    refusal = rules.window_refusal(datetime.time(*start), datetime.time(*end))
    assert (refusal is None) is ok


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("+7 914 123-45-67", "+79141234567"), ("89141234567", "+79141234567"), ("123", None)],
)
def test_phone(raw, expected):
    assert rules.phone_normalized(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "NaN", "Infinity", "99", "1e400", "-38"])
def test_implausible_temperature_is_refused(raw):
    assert rules.temperature_parsed(raw) == (None, "temperature_bad")
