"""The demo's «Запись при открытии дня»: a ballot that opens a few minutes after
`make run` starts, so a persona can file a request and watch the draw happen
(docs/fair-release.md). Idempotent: a place that has a collecting ballot keeps it.

To make "soon" true the demo pulls the opening of one day's slots (of one doctor's place)
forward to now + DEMO_OPENS_IN; real days open at their schedule rule's `opens_at`.
The day is the first one of the place whose slots have not opened yet. When the demo's
slots hold none — the day past the horizon is a Saturday or a Sunday for weekday doctors,
or a public holiday — the place's next working day after the horizon gets its slots
(the same schedule rules, `slots_generate` for those doctors), so there is a ballot on
any day the demo is loaded.
"""

import datetime
from collections.abc import Callable

from django.utils import timezone

from portal.directory.models import Clinic, Doctor, Specialty
from portal.release.models import Ballot
from portal.release.selectors import ballot_slots
from portal.release.services import ballot_open
from portal.scheduling.models import Slot
from portal.scheduling.slot_generation import slots_generate

DEMO_OPENS_IN = datetime.timedelta(minutes=10)
# How far past the generated days to look for the place's next working day.
SEARCH_DAYS = 30
# (clinic, specialty): an adult and a children's place with direct booking.
PLACES = [
    ("Городская поликлиника № 1", "ophthalmologist"),
    ("Детская поликлиника № 1", "ophthalmologist"),
]


def load(scale: int = 1, log: Callable[[str], None] = print) -> None:
    now = timezone.now()
    for clinic_name, code in PLACES:
        clinic = Clinic.objects.filter(short_name=clinic_name).first()
        specialty = Specialty.objects.filter(code=code).first()
        if clinic is None or specialty is None:
            continue
        # A ballot still to be drawn is kept; one whose moment passed (the stand was
        # stopped before its draw, which the worker runs when it starts) is not "soon".
        if Ballot.objects.filter(
            clinic=clinic, specialty=specialty, status=Ballot.Status.COLLECTING, opens_at__gt=now
        ).exists():
            continue
        day = _first_unopened_day(clinic.pk, specialty.pk, now)
        if day is None:
            day = _next_working_day(clinic.pk, specialty.pk, now)
        if day is None:
            log(f"Запись при открытии дня: в «{clinic_name}» нет дня для жеребьёвки, пропущено")
            continue
        opens = (now + DEMO_OPENS_IN).replace(second=0, microsecond=0)
        # Only slots nobody could book yet (opens_at in the future), so nothing booked moves.
        ballot_slots(clinic.pk, specialty.pk, day).filter(
            status=Slot.Status.FREE, opens_at__gt=now
        ).update(opens_at=opens)
        ballot = ballot_open(clinic_id=clinic.pk, specialty_id=specialty.pk, day=day)
        log(
            f"Запись при открытии дня: {clinic_name}, {specialty.name}, {day:%d.%m}, "
            f"жеребьёвка в {timezone.localtime(ballot.opens_at):%H:%M}"
        )


def _first_unopened_day(
    clinic_id: int, specialty_id: int, now: datetime.datetime
) -> datetime.date | None:
    taken = set(
        Ballot.objects.filter(clinic_id=clinic_id, specialty_id=specialty_id).values_list(
            "day", flat=True
        )
    )
    starts = (
        Slot.objects.filter(
            doctor__clinic_id=clinic_id,
            doctor__specialty_id=specialty_id,
            doctor__is_active=True,
            status=Slot.Status.FREE,
            opens_at__gt=now,
        )
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
    )
    for start in starts.iterator():
        day = timezone.localtime(start).date()
        if day not in taken:
            return day
    return None


def _next_working_day(
    clinic_id: int, specialty_id: int, now: datetime.datetime
) -> datetime.date | None:
    """Generate the place's slots on the first day after its last slot (or today) that has
    any, within SEARCH_DAYS, and return that day (None: no schedule, or nothing opens)."""
    doctors = list(
        Doctor.objects.filter(
            clinic_id=clinic_id, specialty_id=specialty_id, is_active=True
        ).values_list("pk", flat=True)
    )
    if not doctors:
        return None
    last = (
        Slot.objects.filter(doctor_id__in=doctors)
        .order_by("-starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    today = timezone.localdate(now)
    after = max(today, timezone.localdate(last)) if last else today
    for n in range(1, SEARCH_DAYS + 1):
        day = after + datetime.timedelta(days=n)
        if slots_generate(start=day, days=1, doctor_ids=doctors):
            found = _first_unopened_day(clinic_id, specialty_id, now)
            if found is not None:
                return found
    return None
