"""Item 10 of issue 16: «№ 2» comes before «№ 11» wherever clinics are listed."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from portal.core.sorting import natural_key
from tests.factories import ClinicFactory, DistrictFactory
from tests.shown import shown

pytestmark = pytest.mark.django_db

NAMES = ["Поликлиника № 11", "Поликлиника № 2", "Поликлиника № 1", "Больница № 10"]
EXPECTED = ["Больница № 10", "Поликлиника № 1", "Поликлиника № 2", "Поликлиника № 11"]


def test_numbers_inside_names_sort_as_numbers():
    assert sorted(NAMES, key=natural_key) == EXPECTED
    assert sorted(["Ель", "еж 10", "Ёж 2"], key=natural_key) == ["Ёж 2", "еж 10", "Ель"]


@pytest.fixture
def district():
    district = DistrictFactory(name="Тестовый район")
    for name in NAMES:
        ClinicFactory(district=district, short_name=name)
    return district


def _order(page: str) -> list[str]:
    """The names in the order they first appear («№ 1» must not match inside «№ 11»)."""
    return sorted(
        EXPECTED, key=lambda name: re.search(re.escape(shown(name)) + r"(?!\d)", page).start()
    )


def test_the_directory_lists_clinics_in_natural_order(district):
    page = Client().get(reverse("directory:district_detail", args=[district.pk])).content.decode()
    assert _order(page) == EXPECTED


def test_the_booking_wizard_lists_clinics_in_natural_order(client, patient, district):
    client.force_login(patient)
    page = client.get(reverse("scheduling:booking_district", args=[district.pk])).content.decode()
    assert _order(page) == EXPECTED
