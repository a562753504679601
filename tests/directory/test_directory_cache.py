"""The directory kept per process (`directory.cache`): never older than the last change.

Every change of a directory row starts a new generation in the shared cache; every
process reads the generation once per request and keeps nothing from an older one.
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.directory import cache as directory_cache
from portal.directory import selectors
from portal.directory.models import Clinic, District, Doctor
from tests.factories import ClinicFactory, DoctorFactory, SlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_patient(client, patient):
    client.force_login(patient)
    return client


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_renamed_district_and_clinic_show_at_once(as_patient, home_clinic):
    district = home_clinic.district
    start = reverse("scheduling:booking_start")
    clinics = reverse("scheduling:booking_district", args=[district.pk])
    assert district.name in _page(as_patient, start)
    assert home_clinic.short_name in _page(as_patient, clinics)

    district.name = "Переименованный район"
    district.save()
    home_clinic.short_name = "Поликлиника с новым именем"
    home_clinic.save()

    assert "Переименованный район" in _page(as_patient, start)
    assert "Поликлиника с новым именем" in _page(as_patient, clinics)


def test_a_doctor_who_stops_receiving_is_gone_from_every_step(as_patient, home_clinic):
    doctor = DoctorFactory(clinic=home_clinic, last_name="Уходящая")
    SlotFactory(doctor=doctor)
    doctors = reverse("scheduling:booking_doctors", args=[home_clinic.pk, doctor.specialty_id])
    assert "Уходящая" in _page(as_patient, doctors)
    assert as_patient.get(reverse("scheduling:booking_days", args=[doctor.pk])).status_code == 200

    doctor.is_active = False
    doctor.save()

    assert "Уходящая" not in _page(as_patient, doctors)
    assert as_patient.get(reverse("scheduling:booking_days", args=[doctor.pk])).status_code == 404


def test_a_change_made_by_another_process_shows_on_the_next_request(as_patient, home_clinic):
    """Another process changed the row and replaced the generation in the shared cache;
    this one still holds the old rows in its memory."""
    url = reverse("scheduling:booking_district", args=[home_clinic.district_id])
    assert home_clinic.short_name in _page(as_patient, url)

    Clinic.objects.filter(pk=home_clinic.pk).update(short_name="Изменено в другом процессе")
    # update() sends no signal: this process has not heard of it, and keeps its rows ...
    assert "Изменено в другом процессе" not in _page(as_patient, url)
    # ... until the other process's change replaces the generation, as its commit does.
    cache.set(directory_cache.GENERATION_KEY, "the other process's generation")
    assert "Изменено в другом процессе" in _page(as_patient, url)


def test_the_generation_is_replaced_again_when_the_change_commits(
    home_clinic, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        home_clinic.save()
        at_save = cache.get(directory_cache.GENERATION_KEY)
    assert at_save is not None
    for callback in callbacks:
        callback()
    after_commit = cache.get(directory_cache.GENERATION_KEY)
    assert after_commit not in (None, at_save)


def test_kept_rows_are_not_read_again(home_clinic):
    selectors.clinic_get(home_clinic.pk)
    with CaptureQueriesContext(connection) as captured:
        assert selectors.clinic_get(home_clinic.pk) == home_clinic
        assert selectors.clinics_list_in_district(home_clinic.district) == [home_clinic]
        selectors.clinics_list_in_district(home_clinic.district)
    assert len(captured.captured_queries) == 1  # the district's list, once


def _tables(captured):
    """The table each captured statement reads FROM."""
    return [q["sql"].split(" FROM ")[1].split()[0].strip('"`') for q in captured.captured_queries]


def test_without_the_shared_cache_every_read_goes_to_the_database(home_clinic, monkeypatch):
    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: None)
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: False)
    selectors.clinic_get(home_clinic.pk)
    Clinic.objects.filter(pk=home_clinic.pk).update(short_name="Без Redis")
    with CaptureQueriesContext(connection) as captured:
        assert selectors.clinic_get(home_clinic.pk).short_name == "Без Redis"
    # The clinic and its district, one statement each: nothing was kept.
    assert _tables(captured) == ["directory_clinic", "directory_district"]


def test_rows_read_from_the_replica_in_degraded_mode_are_not_kept(home_clinic, monkeypatch):
    monkeypatch.setattr(directory_cache, "reading_everything_from_replica", lambda: True)
    selectors.clinic_get(home_clinic.pk)
    monkeypatch.setattr(directory_cache, "reading_everything_from_replica", lambda: False)
    with CaptureQueriesContext(connection) as captured:
        selectors.clinic_get(home_clinic.pk)
    assert _tables(captured) == ["directory_clinic", "directory_district"]


def test_an_old_bucket_is_dropped_after_its_lifetime(home_clinic, settings):
    settings.DIRECTORY_CACHE_SECONDS = 0  # a bound on edits made behind the ORM's back
    selectors.clinic_get(home_clinic.pk)
    Clinic.objects.filter(pk=home_clinic.pk).update(short_name="Правка в обход ORM")
    assert selectors.clinic_get(home_clinic.pk).short_name == "Правка в обход ORM"


def test_a_bucket_outliving_its_lifetime_mid_page_serves_that_page_then_goes(home_clinic, settings):
    """A page checks its bucket's age once: its 20–30 reads of the directory come from
    the bucket it started with, and the next page starts a new one."""
    with directory_cache.as_one_request():
        selectors.clinic_get(home_clinic.pk)
        settings.DIRECTORY_CACHE_SECONDS = 0
        Clinic.objects.filter(pk=home_clinic.pk).update(short_name="Правка в обход ORM")
        assert selectors.clinic_get(home_clinic.pk).short_name == home_clinic.short_name
    with directory_cache.as_one_request():
        assert selectors.clinic_get(home_clinic.pk).short_name == "Правка в обход ORM"


def test_a_change_mid_page_shows_to_the_rest_of_that_page(home_clinic):
    """The bucket a page checked is left when its own change starts a new generation."""
    with directory_cache.as_one_request():
        selectors.clinic_get(home_clinic.pk)
        home_clinic.short_name = "Переименована на этой странице"
        home_clinic.save()
        assert selectors.clinic_get(home_clinic.pk).short_name == home_clinic.short_name


def test_bulk_writes_of_the_demo_loader_start_a_new_generation(db):
    from portal.demo import directory as demo_directory

    before = list(selectors.districts_list())
    demo_directory.load(scale=1, log=lambda _: None)
    after = selectors.districts_list()
    assert len(after) > len(before)
    assert Doctor.objects.count() > 0
    some = Doctor.objects.filter(is_active=True).first()
    assert some is not None and selectors.doctor_get(some.pk) == some


def test_a_new_district_is_offered_by_the_nearest_time_search(as_patient):
    url = reverse("scheduling:booking_nearest")
    assert "Новый район" not in _page(as_patient, url)
    District.objects.create(name="Новый район", kind=District.Kind.DISTRICT)
    assert "Новый район" in _page(as_patient, url)


def test_a_new_clinic_shows_in_its_district(as_patient, home_clinic):
    url = reverse("scheduling:booking_district", args=[home_clinic.district_id])
    _page(as_patient, url)
    ClinicFactory(district=home_clinic.district, short_name="Открылась вчера")
    assert "Открылась вчера" in _page(as_patient, url)


def test_outside_a_request_every_read_asks_for_the_generation(home_clinic):
    """A worker or a command runs for hours without a request: it must see changes too."""
    selectors.clinic_get(home_clinic.pk)
    Clinic.objects.filter(pk=home_clinic.pk).update(short_name="Изменено, пока шла работа")
    cache.set(directory_cache.GENERATION_KEY, "a newer generation")
    assert selectors.clinic_get(home_clinic.pk).short_name == "Изменено, пока шла работа"


def test_work_read_as_one_request_asks_for_the_generation_once(home_clinic, monkeypatch):
    """`as_one_request` (the slot search benchmark): within it, as within a page, a
    change made meanwhile shows from the next request on; after it, on every read again."""
    asked: list[str] = []
    original = cache.get

    def get(key: str, *args, **kwargs):
        asked.append(key)
        return original(key, *args, **kwargs)

    monkeypatch.setattr(cache, "get", get)
    selectors.clinic_get(home_clinic.pk)
    asked.clear()
    with directory_cache.as_one_request():
        selectors.clinic_get(home_clinic.pk)
        Clinic.objects.filter(pk=home_clinic.pk).update(short_name="Изменено в ходе запроса")
        cache.set(directory_cache.GENERATION_KEY, "a newer generation")
        selectors.clinic_get(home_clinic.pk)
        selectors.clinic_get(home_clinic.pk)
        assert asked.count(directory_cache.GENERATION_KEY) == 1
        assert selectors.clinic_get(home_clinic.pk).short_name != "Изменено в ходе запроса"
    with directory_cache.as_one_request():
        assert selectors.clinic_get(home_clinic.pk).short_name == "Изменено в ходе запроса"
    selectors.clinic_get(home_clinic.pk)
    selectors.clinic_get(home_clinic.pk)
    assert asked.count(directory_cache.GENERATION_KEY) == 4


def test_a_doctor_seen_first_is_one_read_of_its_own_row_beside_a_kept_clinic(home_clinic):
    """At a rush's opening each worker meets the day's doctors for the first time: the
    clinic and the specialty are already kept, so a doctor costs one short statement."""
    doctor = DoctorFactory(clinic=home_clinic)
    selectors.clinic_get(home_clinic.pk)
    selectors.specialty_get(doctor.specialty_id)
    with CaptureQueriesContext(connection) as captured:
        seen = selectors.doctor_cached(doctor.pk)
        assert seen is not None
        shown = (seen.full_name, seen.clinic.short_name, seen.clinic.district.name)
        assert shown == (doctor.full_name, home_clinic.short_name, home_clinic.district.name)
        assert seen.specialty.name == doctor.specialty.name
    assert _tables(captured) == ["directory_doctor"]
    assert " JOIN " not in captured.captured_queries[0]["sql"]  # its own row only
    assert seen.get_deferred_fields() == set()


def test_a_doctor_who_left_is_kept_but_not_offered(home_clinic):
    doctor = DoctorFactory(clinic=home_clinic, is_active=False)
    assert selectors.doctor_cached(doctor.pk) == doctor  # a past appointment's doctor
    with pytest.raises(Http404):
        selectors.doctor_get(doctor.pk)
    with pytest.raises(Http404):
        selectors.doctor_get(doctor.pk + 1000)
