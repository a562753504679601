import datetime
import time

import pytest
from django.core.cache import cache
from django.utils import timezone

from portal.scheduling.models import Slot
from portal.scheduling.rankings import rankings_forget
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


@pytest.fixture
def clock(settings, monkeypatch):
    """A ranking lives 2 s; the wall clock stands still until a test moves it."""
    settings.NEAREST_CACHE_SECONDS = 2
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def test_a_new_slot_shows_once_the_ranking_is_older_than_its_lifetime(clock):
    """The ranking is kept by this process as well as shared; neither copy is used once it
    is NEAREST_CACHE_SECONDS old, so a freed or newly opened time shows by then."""
    doctor = DoctorFactory()
    assert slots_list_nearest(doctor.specialty) == []
    slot = _open_slot(doctor, 5)
    clock[0] += 1.9
    assert slots_list_nearest(doctor.specialty) == []  # still the kept ranking
    clock[0] += 0.2
    assert slots_list_nearest(doctor.specialty) == [slot]


def test_a_ranking_shared_by_another_process_is_used_until_it_is_old(clock):
    """Another worker ranked first: this one takes its ranking from the shared cache, and
    keeps it no longer than that ranking's own lifetime."""
    doctor = DoctorFactory()
    assert slots_list_nearest(doctor.specialty) == []
    slot = _open_slot(doctor, 5)
    rankings_forget()  # as another worker that has not ranked it itself
    clock[0] += 1.5
    assert slots_list_nearest(doctor.specialty) == []  # the shared ranking, 1.5 s old
    clock[0] += 0.6
    assert slots_list_nearest(doctor.specialty) == [slot]


def test_a_ranking_stamped_by_a_clock_ahead_is_ranked_anew(clock):
    """A node whose clock runs ahead shares a ranking stamped in the future: this one does
    not take it for a young one, which it might keep too long."""
    doctor = DoctorFactory()
    cache.set(f"nearest:{doctor.specialty_id}:-:-:*", (clock[0] + 30, []), 60)
    slot = _open_slot(doctor, 5)
    assert slots_list_nearest(doctor.specialty) == [slot]


def test_a_shared_value_of_another_shape_is_ranked_anew(settings):
    """An older release shared the bare list of ids under the same key: during a rolling
    update this one ranks again instead of reading it as its own."""
    settings.NEAREST_CACHE_SECONDS = 60
    doctor = DoctorFactory()
    slot = _open_slot(doctor, 5)
    cache.set(f"nearest:{doctor.specialty_id}:-:-:*", [999_999], 60)
    assert slots_list_nearest(doctor.specialty) == [slot]


class _CacheDown:
    """The shared cache as FailSoftRedisCache answers with Redis down: every key missing,
    every write dropped."""

    def get(self, key, default=None):
        return default

    def set(self, key, value, timeout=None):
        return None


def test_with_the_shared_cache_down_each_process_still_keeps_its_ranking(clock, monkeypatch):
    from portal.scheduling import rankings

    monkeypatch.setattr(rankings, "cache", _CacheDown())
    doctor = DoctorFactory()
    assert slots_list_nearest(doctor.specialty) == []
    slot = _open_slot(doctor, 5)
    clock[0] += 1.9
    assert slots_list_nearest(doctor.specialty) == []  # kept here, though not shared
    clock[0] += 0.2
    assert slots_list_nearest(doctor.specialty) == [slot]
