"""The rules about the patient themself, each in one function (docs/domain.md).

Age and policy decide before any slot does: the booking service, the wizard, the cabinet
and the API ask these (through `scheduling.rules`, which adds the slot's and place's
rules), so every page gives the same reason. They read no rows.
"""

import time
from datetime import date, timedelta, tzinfo

from django.conf import settings
from django.utils import timezone

from portal.patients.models import Patient
from portal.staff.permissions import is_staff_account

# Adult medicine, and the age from which one adds a child without ESIA listing them.
ADULT_AGE = 18


# (time zone, minute since the epoch, that minute's local date): see `today_local`.
_today: tuple[tzinfo, int, date] | None = None


def today_local() -> date:
    """The region's date now. The wizard asks it once per row of a list (each clinic's
    and specialty's age rule: 32 times for a city's clinics, a tenth of the page's CPU,
    docs/performance.md), so the date is kept for the minute it was asked in: every time
    zone's offset is a whole number of minutes, so no date changes inside a minute."""
    global _today
    # The region's zone (settings.TIME_ZONE): the portal never activates another one.
    zone = timezone.get_default_timezone()
    minute = int(time.time() // 60)
    kept = _today
    if kept is not None and kept[0] is zone and kept[1] == minute:
        return kept[2]
    today = timezone.localdate(timezone=zone)
    _today = (zone, minute, today)
    return today


def is_over_child_age(patient: Patient, today: date | None = None) -> bool:
    """True once the patient has turned settings.CHILD_MAX_AGE (14 by default)."""
    return patient.age_on(today or today_local()) >= settings.CHILD_MAX_AGE


def coming_of_age_day(patient: Patient, today: date | None = None) -> date | None:
    """The day the child turns settings.CHILD_MAX_AGE if it falls within the next
    settings.NOTIFICATIONS_COMING_OF_AGE_DAYS days, else None.

    From that day a parent no longer books for them (`child_refusal`): the cabinet says
    so ahead, with the window in which the guardians are also told by message.
    """
    today = today or today_local()
    birth = patient.birth_date
    year = birth.year + settings.CHILD_MAX_AGE
    try:
        birthday = birth.replace(year=year)
    except ValueError:  # born on 29 February: the birthday is 1 March in common years
        birthday = date(year, 3, 1)
    window = timedelta(days=settings.NOTIFICATIONS_COMING_OF_AGE_DAYS)
    return birthday if today < birthday <= today + window else None


def is_child(patient: Patient) -> bool:
    """Children's medicine is for patients under 18 (clinics and specialties alike)."""
    return patient.age_on(today_local()) < ADULT_AGE


def child_refusal(patient: Patient, actor_id: int | None) -> str | None:
    """A child of CHILD_MAX_AGE or older is not booked from a parent's cabinet.

    From that age they have their own Gosuslugi account and book themselves; their
    own booking (``patient.user_id == actor_id``) is never refused here.
    """
    if patient.user_id is not None and patient.user_id == actor_id:
        return None
    if is_over_child_age(patient):
        # A clinic's staff booking by phone act for the clinic, not from a parent's cabinet.
        if is_staff_account(actor_id):
            return None
        return "child_too_old"
    return None


def policy_refusal(patient: Patient) -> str | None:
    """No OMS policy, no booking: the clinic receives under the policy (docs/oms-policy.md)."""
    return None if patient.policy_number else "no_policy"
