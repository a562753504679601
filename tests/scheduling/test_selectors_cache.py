import datetime

import pytest
from django.utils import timezone

from portal.scheduling.models import Slot
from portal.scheduling.selectors import slots_list_nearest
from tests.factories import DoctorFactory, SlotFactory

pytestmark = pytest.mark.django_db


def _open_slot(doctor, hours):
    now = timezone.now()
    return SlotFactory(
        doctor=doctor,
        starts_at=now + datetime.timedelta(hours=hours),
        ends_at=now + datetime.timedelta(hours=hours, minutes=20),
        opens_at=now - datetime.timedelta(hours=1),
    )


def test_a_slot_taken_after_the_ranking_was_shared_drops_out_at_once(settings):
    settings.NEAREST_CACHE_SECONDS = 60
    doctor = DoctorFactory()
    first, second = _open_slot(doctor, 5), _open_slot(DoctorFactory(specialty=doctor.specialty), 6)
    assert slots_list_nearest(doctor.specialty) == [first, second]
    Slot.objects.filter(pk=first.pk).update(status=Slot.Status.BOOKED)
    assert slots_list_nearest(doctor.specialty) == [second]


def test_without_the_shared_ranking_a_new_slot_shows_at_once(settings):
    settings.NEAREST_CACHE_SECONDS = 0
    doctor = DoctorFactory()
    assert slots_list_nearest(doctor.specialty) == []
    slot = _open_slot(doctor, 5)
    assert slots_list_nearest(doctor.specialty) == [slot]


def test_a_doctor_renamed_or_moved_shows_so_on_the_next_search(settings):
    """The slots' doctors come from the directory's per-process cache; a change to a
    doctor is seen by the next search, not after the cache's life."""
    settings.NEAREST_CACHE_SECONDS = 60
    doctor = DoctorFactory(last_name="Прежняя")
    other_clinic = DoctorFactory(specialty=doctor.specialty).clinic
    _open_slot(doctor, 5)
    [slot] = slots_list_nearest(doctor.specialty)
    assert slot.doctor.last_name == "Прежняя" and slot.doctor.clinic == doctor.clinic
    doctor.last_name, doctor.clinic = "Новая", other_clinic
    doctor.save()
    [slot] = slots_list_nearest(doctor.specialty)
    assert slot.doctor.last_name == "Новая"
    assert slot.doctor.clinic.short_name == other_clinic.short_name
