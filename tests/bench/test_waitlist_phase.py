"""The waitlist phase of `make bench` measures offers the waitlist really makes."""

import datetime

from django.utils import timezone

from bench.waitlist import _offerable_slots
from portal.scheduling.models import Slot
from portal.scheduling.selectors import bookable_q
from tests.factories import DoctorFactory, SlotFactory


def test_a_free_slot_too_soon_to_offer_is_not_measured(home_clinic):
    """In the early afternoon the day's next slot is free but within the offer's margin:
    `slot_freed` offers it to nobody, so the phase must not expect an offer for it."""
    doctor = DoctorFactory(clinic=home_clinic)
    now = timezone.now()
    soon = SlotFactory(
        doctor=doctor,
        starts_at=now + datetime.timedelta(minutes=30),
        ends_at=now + datetime.timedelta(minutes=50),
    )
    later = SlotFactory(
        doctor=doctor,
        starts_at=now + datetime.timedelta(hours=3),
        ends_at=now + datetime.timedelta(hours=3, minutes=20),
    )
    assert set(Slot.objects.filter(bookable_q(now), doctor=doctor)) == {soon, later}

    assert _offerable_slots(doctor, now) == [later]
