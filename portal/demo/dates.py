"""Dates of the demo people, counted back from the current week so they never go stale.

A persona is "38 years and 262 days old", not "born 14.03.1988": the teenager stays 15,
the child about to turn 14 stays a few weeks short of it, whatever year `make run` runs in.

The anchor is the Monday of the current week (regional time), not today: the ESIA
emulator computes the people on every request while the registry of insured persons
holds what `load_demo` wrote, and the two must agree on a birth date for the registry
check to pass. With a daily anchor a stand left running past midnight would refuse
every child; with a weekly one it only needs `load_demo` again after a Monday.
"""

from datetime import date, timedelta

from django.utils import timezone


def demo_anchor(today: date | None = None) -> date:
    """The Monday of the week of ``today`` (default: today in the region)."""
    day = today or timezone.localdate()
    return day - timedelta(days=day.weekday())


def years_after(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def born(years: int, days: int, anchor: date | None = None) -> date:
    """A birth date ``years`` and ``days`` before the anchor (``days`` < 0: after it).

    With 7 <= days <= 358 the person is exactly ``years`` old on every day of the week.
    """
    return years_after(anchor or demo_anchor(), -years) - timedelta(days=days)


def esia_date(day: date) -> str:
    """ESIA's REST date format, dd.MM.yyyy."""
    return day.strftime("%d.%m.%Y")


def years_phrase(years: int) -> str:
    """«1 год», «3 года», «15 лет»: Russian plural of a persona's age in its title."""
    if years % 10 == 1 and years % 100 != 11:
        word = "год"
    elif 2 <= years % 10 <= 4 and not 12 <= years % 100 <= 14:
        word = "года"
    else:
        word = "лет"
    return f"{years} {word}"
