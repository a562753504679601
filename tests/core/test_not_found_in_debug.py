"""Item 20 of issue 16: `make run` (DEBUG on) shows the portal's 404, not Django's URL list."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_wrong_address_with_debug_on_shows_the_portals_russian_page(settings):
    settings.DEBUG = True
    response = Client().get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Страница не найдена" in page
    assert "staff-admin" not in page
    assert "URLconf" not in page


def test_a_missing_object_with_debug_on_shows_the_portals_page(settings):
    settings.DEBUG = True
    response = Client().get("/districts/999999/")
    assert response.status_code == 404
    assert "Страница не найдена" in response.content.decode()
    assert "Raised by" not in response.content.decode()


def test_the_missing_slash_is_still_added(settings, demo_region):
    settings.DEBUG = True
    response = Client().get("/districts")
    assert response.status_code == 301
    assert response["Location"] == "/districts/"


def test_a_developer_can_ask_for_djangos_technical_page(settings):
    settings.DEBUG = True
    settings.DEBUG_TECHNICAL_404 = True
    assert "URLconf" in Client().get("/no-such-page/").content.decode()
