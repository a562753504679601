"""The demo's «Запись при открытии дня»: a ballot that opens a few minutes after
`make run` starts, so a persona can file a request and watch the draw happen
(docs/fair-release.md). Idempotent: a place that has a collecting ballot keeps it.

To make "soon" true the demo pulls the opening of one day's slots (of one doctor's place)
forward to now + DEMO_OPENS_IN; real days open at their schedule rule's `opens_at`.
"""

import datetime
from collections.abc import Callable

from django.utils import timezone

from portal.directory.models import Clinic, Specialty
from portal.release.models import Ballot
from portal.release.selectors import ballot_slots
from portal.release.services import ballot_open
from portal.scheduling.models import Slot

DEMO_OPENS_IN = datetime.timedelta(minutes=10)
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
        if Ballot.objects.filter(
            clinic=clinic, specialty=specialty, status=Ballot.Status.COLLECTING
        ).exists():
            continue
        day = _first_unopened_day(clinic.pk, specialty.pk, now)
        if day is None:
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
