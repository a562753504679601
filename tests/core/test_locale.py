"""The portal's one language, set on every request as Django's LocaleMiddleware sets it
(`core.middleware.OneLanguageLocaleMiddleware`)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _vary(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",")}


@pytest.mark.parametrize("asked", ["", "en-US,en;q=0.9", "de", "ru-RU"])
def test_every_page_is_russian_whatever_the_browser_asks(asked):
    browser = Client(headers={"Accept-Language": asked} if asked else {})
    response = browser.get("/cabinet/")  # the login choice
    assert response["Content-Language"] == "ru"
    assert "accept-language" in _vary(response)
    assert '<html lang="ru">' in response.content.decode()


def test_a_second_language_goes_through_djangos_own_choice(settings):
    """Control: with two languages the browser's choice is honoured again."""
    settings.LANGUAGES = [("ru", "Русский"), ("en", "English")]
    response = Client(headers={"Accept-Language": "en"}).get("/cabinet/")
    assert response["Content-Language"] == "en"
    assert "accept-language" in _vary(response)
    response = Client(headers={"Accept-Language": "ru"}).get("/cabinet/")
    assert response["Content-Language"] == "ru"
