import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portal.demo import directory, registry, schedules, staff
from portal.demo.management.commands.load_demo import DEMO_STEPS
from portal.directory.models import Clinic, District, Doctor, Specialty
from tests.shown import shown

pytestmark = pytest.mark.django_db


def test_demo_region_is_irkutsk_oblast(demo_region):
    names = list(District.objects.values_list("name", flat=True)[:10])
    assert names == [
        "г. Иркутск",
        "Иркутский район",
        "Шелеховский район",
        "г. Ангарск",
        "г. Усолье-Сибирское",
        "Усольский район",
        "г. Братск",
        "Братский район",
        "г. Усть-Илимск",
        "Усть-Илимский район",
    ]
    assert District.objects.count() >= 40
    irkutsk = Clinic.objects.filter(district=demo_region)
    assert irkutsk.count() >= 15
    assert {c.kind for c in irkutsk} == {"adult", "children", "mixed"}
    assert set(Specialty.objects.values_list("access", flat=True)) == {
        "direct",
        "attachment",
        "referral",
    }


def test_loading_the_demo_twice_adds_nothing(demo_region):
    from django.core.management import call_command

    before = (Clinic.objects.count(), Doctor.objects.count(), District.objects.count())
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (Clinic.objects.count(), Doctor.objects.count(), District.objects.count()) == before


def test_scale_grows_the_region(db):
    # Only the directory part: registry and slots at scale 2 are the benchmark's business.
    directory.load(log=lambda _: None)
    small = (Clinic.objects.count(), Doctor.objects.count())
    directory.load(scale=2, log=lambda _: None)
    assert Clinic.objects.count() > small[0]
    assert Doctor.objects.count() > 1.8 * small[1]


def test_doctor_names_agree_in_sex(demo_region):
    for doctor in Doctor.objects.all()[:200]:
        female = doctor.middle_name.endswith("на")
        assert doctor.last_name.endswith("а") == female, doctor.full_name


def test_district_list_is_paginated_like_figure_9(client: Client, demo_region):
    first = client.get("/districts/").content.decode()
    assert "г. Иркутск" in first and 'aria-current="page"' in first
    second = client.get("/districts/?page=2").content.decode()
    assert "г. Иркутск" not in second
    assert client.get("/districts/?page=999").status_code == 200  # last page, not 500
    assert client.get("/districts/?page=abc").status_code == 200


def test_district_shows_its_clinics(client: Client, demo_region):
    html = client.get(f"/districts/{demo_region.pk}/").content.decode()
    assert shown("Городская поликлиника № 1") in html
    assert shown("Детская поликлиника № 1") in html


def test_clinic_page_lists_specialties_and_doctors(client: Client, irkutsk_clinic):
    html = client.get(f"/clinics/{irkutsk_clinic.pk}/").content.decode()
    assert irkutsk_clinic.address in html
    assert "Терапевт участковый" in html
    doctor = irkutsk_clinic.doctors.first()
    assert doctor.full_name in html


def test_unknown_district_and_clinic_are_404(client: Client, db):
    assert client.get("/districts/999999/").status_code == 404
    assert client.get("/clinics/999999/").status_code == 404


def test_clinic_page_query_count_does_not_grow_with_doctors(client: Client, irkutsk_clinic):
    with CaptureQueriesContext(connection) as small:
        client.get(f"/clinics/{irkutsk_clinic.pk}/")
    for doctor in list(irkutsk_clinic.doctors.all()[:5]):
        doctor.pk = None
        doctor.save()
    with CaptureQueriesContext(connection) as large:
        client.get(f"/clinics/{irkutsk_clinic.pk}/")
    assert len(large) == len(small)


def test_demo_loads_the_directory_before_the_registry_and_the_schedules():
    from portal.demo import clinic_hours, desk, home_visits, referrals, release, waitlist

    # The desk books Мария into the schedules' slots, after the other steps took theirs;
    # the referrals need Мария and Анна in the registry, the doctors and a clerk; the home
    # visits reuse the desk's clerk.
    assert [
        directory, clinic_hours, registry, schedules, staff, waitlist, release, desk, referrals,
        home_visits,
    ] == DEMO_STEPS  # fmt: skip
