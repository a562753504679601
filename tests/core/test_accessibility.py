"""Issue 16, item 1: the version for the visually impaired works without JavaScript,
is remembered across pages in a cookie (logged out too) and never redirects off-site."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

URL = reverse("core:accessibility")


def _choose(client: Client, **values: str):
    return client.post(URL, {"next": "/districts/", **values})


def test_every_page_has_the_switch_to_the_settings_panel():
    page = Client().get("/districts/?page=2").content.decode()
    assert "Версия для слабовидящих" in page
    assert f'href="{URL}?next=/districts/%3Fpage%3D2"' in page


def test_the_settings_panel_offers_three_font_sizes_three_schemes_images_and_spacing():
    page = Client().get(URL + "?next=/districts/").content.decode()
    for value in ("normal", "large", "larger"):
        assert f'name="font" value="{value}"' in page
    for value in ("black-on-white", "white-on-black", "blue-on-light-blue"):
        assert f'name="scheme" value="{value}"' in page
    assert 'name="images" value="off"' in page and 'name="spacing" value="wide"' in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_choices_are_remembered_on_other_pages_without_logging_in():
    client = Client(enforce_csrf_checks=False)
    response = _choose(client, font="larger", scheme="white-on-black", images="off", spacing="wide")
    assert response.status_code == 302 and response["Location"] == "/districts/"
    cookie = response.cookies["portal_a11y"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and int(cookie["max-age"]) > 86400
    page = client.get("/").content.decode()
    assert (
        '<html lang="ru" class="a11y a11y-font-larger a11y-scheme-white-on-black '
        'a11y-spacing-wide a11y-images-off">' in page
    )
    # The panel on every page: the current scheme pressed, a way back to the normal version.
    assert 'value="white-on-black" class="a11y-button a11y-swatch-wb" aria-pressed="true"' in page
    assert "Обычная версия сайта" in page
    assert "sessionid" not in client.cookies  # a cookie of its own, not the session


def test_a_panel_button_changes_one_setting_and_keeps_the_others():
    client = Client()
    _choose(client, font="larger", scheme="white-on-black")
    # As the panel sends it: the hidden current values, then the pressed button's.
    client.post(
        URL, {"next": "/", "font": ["larger"], "scheme": ["white-on-black", "blue-on-light-blue"]}
    )
    page = client.get("/").content.decode()
    assert "a11y-font-larger a11y-scheme-blue-on-light-blue" in page


def test_the_normal_version_forgets_the_choices():
    client = Client()
    _choose(client, font="large")
    response = client.post(URL, {"next": "/", "action": "off"})
    assert response.cookies["portal_a11y"].value == ""
    assert '<html lang="ru">' in client.get("/").content.decode()


def test_a_tampered_cookie_is_ignored_value_by_value():
    client = Client()
    client.cookies["portal_a11y"] = "font=huge&scheme=%22%3E%3Cscript%3E&images=off"
    page = client.get("/").content.decode()
    assert 'class="a11y a11y-font-large a11y-scheme-black-on-white a11y-images-off"' in page
    assert "<script>" not in page


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)"],
)
def test_it_never_redirects_off_the_site(target):
    response = Client().post(URL, {"next": target, "font": "large"})
    assert response["Location"] == "/"


def test_saving_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    assert client.post(URL, {"next": "/", "font": "large"}).status_code == 403


def test_the_settings_page_says_its_marks_are_a_proposal_while_the_ordinary_site_is_shown():
    page = Client().get(URL).content.decode()
    assert "Сейчас портал показан в обычной версии" in page
    assert 'value="large" id="a11y-font-large" checked' in page


def test_the_settings_page_marks_the_size_the_visitor_is_reading():
    client = Client()
    _choose(client, font="larger")
    page = client.get(URL).content.decode()
    assert "Отмечены настройки, с которыми сейчас показан портал" in page
    assert 'value="larger" id="a11y-font-larger" checked' in page
    assert 'value="large" id="a11y-font-large" checked' not in page
