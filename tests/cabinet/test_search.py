"""Issue 27, point 5: search over districts, clinics, doctors and specialties; the patient's
attached clinic and district doctor marked; a clinic page with hours, phone and a map link."""

import pytest
from django.urls import reverse

from tests.factories import ClinicFactory, DoctorFactory, PatientFactory, SpecialtyFactory
from tests.shown import shown

pytestmark = pytest.mark.django_db

SEARCH = reverse("cabinet:search")


def _found(client, query: str) -> str:
    response = client.get(SEARCH, {"q": query})
    assert response.status_code == 200
    return response.content.decode()


def test_typing_detskaya_finds_the_childrens_clinic_number_one(client, demo_region):
    page = _found(client, "детская")
    clinics = page[page.index('id="found-clinics"') :]
    # Иркутск's own children's clinics first (the region's order), № 2 before № 5.
    first = clinics.index(shown("Детская поликлиника № 1</a>"))
    assert (
        first
        < clinics.index(shown("Детская поликлиника № 2</a>"))
        < clinics.index(shown("Детская поликлиника № 5</a>"))
    )
    assert "г. Иркутск" in clinics[first : first + 300]
    assert "Городская поликлиника" not in clinics


def test_a_district_a_specialty_an_address_and_a_doctor_are_found(client, home_clinic):
    eye = SpecialtyFactory(code="ophthalmologist", name="Офтальмолог")
    doctor = DoctorFactory(clinic=home_clinic, specialty=eye, last_name="Зорина", room="214")
    elsewhere = ClinicFactory(
        short_name="Поликлиника на Байкальской", address="ул. Байкальская, д. 5"
    )
    assert doctor.full_name in _found(client, "зорина")
    by_specialty = _found(client, "офтальм")
    assert 'id="found-specialties"' in by_specialty and doctor.full_name in by_specialty
    assert "Поликлиника на Байкальской" in _found(client, "байкальская 5")
    assert elsewhere.district.name in _found(client, elsewhere.district.name.lower())
    # Two words: a therapist named Зорина is not an ophthalmologist named Зорина.
    assert doctor.full_name not in _found(client, "зорина терапевт")


def test_nothing_found_says_so_and_a_one_letter_query_searches_nothing(client, home_clinic):
    assert "ничего не найдено" in _found(client, "щщщщщ")
    page = _found(client, "а")
    assert "ничего не найдено" not in page and 'id="found-clinics"' not in page


def test_the_patients_clinic_and_district_doctor_are_marked_and_first(client, home_clinic):
    therapist = SpecialtyFactory(code="therapist", name="Терапевт участковый")
    other = ClinicFactory(short_name="Поликлиника № 2")
    mine = DoctorFactory(clinic=home_clinic, specialty=therapist, last_name="Яковлева", area="5")
    not_mine = DoctorFactory(
        clinic=home_clinic, specialty=therapist, last_name="Абрамова", area="2"
    )
    DoctorFactory(clinic=other, specialty=therapist, last_name="Беляева", area="5")
    anna = PatientFactory(clinic=home_clinic, area="5")
    client.force_login(anna.user)
    page = _found(client, "терапевт")
    doctors = page[page.index('id="found-doctors"') :]
    assert doctors.count("ваш участковый врач") == 1
    assert doctors.index(mine.full_name) < doctors.index("ваш участковый врач")
    assert doctors.index("ваш участковый врач") < doctors.index(not_mine.full_name)
    clinics = page[page.index('id="found-clinics"') : page.index('id="found-doctors"')]
    assert clinics.index("Поликлиника прикрепления") < clinics.index("ваша поликлиника")
    assert clinics.index("ваша поликлиника") < clinics.index(shown("Поликлиника № 2"))
    # A visitor sees the same results with nothing marked.
    client.logout()
    assert "ваш участковый врач" not in _found(client, "терапевт")


def test_the_clinic_page_has_hours_phone_specialties_and_a_map_link(client, home_clinic):
    home_clinic.phone = "83952245678"
    home_clinic.hours = "пн–пт 8:00–20:00, сб 9:00–14:00"
    home_clinic.address = "Иркутская обл., г. Иркутск, ул. Ленина, д. 1"
    home_clinic.save()
    DoctorFactory(clinic=home_clinic, specialty=SpecialtyFactory(name="Офтальмолог"))
    page = client.get(reverse("directory:clinic_detail", args=[home_clinic.pk])).content.decode()
    assert "пн–пт 8:00–20:00, сб 9:00–14:00" in page
    assert '<a href="tel:+73952245678">+7 (3952) 24-56-78</a>' in page
    assert "https://yandex.ru/maps/?text=%D0%98%D1%80%D0%BA" in page  # the address, encoded
    assert "<script" not in page.split("</header>")[1]  # no map script on the page
    assert "Офтальмолог" in page
