"""A session that ended while the browser was away says so, once (issue 27)."""

import pytest
from django.conf import settings

from portal.core.middleware import SESSION_MARKER_COOKIE

pytestmark = pytest.mark.django_db
NOTICE = "Сеанс завершился: вы долго не пользовались порталом."


def _expire(client):
    """What the idle expiry does: the server forgets the session, the browser its cookie."""
    client.session.flush()
    client.cookies.pop(settings.SESSION_COOKIE_NAME, None)


def test_a_session_that_expired_while_away_is_told_once(client, patient):
    client.force_login(patient)
    assert client.get("/cabinet/").status_code == 200
    assert client.cookies[SESSION_MARKER_COOKIE].value == "1"

    _expire(client)
    first = client.get("/cabinet/").content.decode()
    again = client.get("/cabinet/").content.decode()

    assert NOTICE in first and "Войти через ЕСИА" in first
    assert NOTICE not in again


def test_logging_out_says_only_that(client, patient):
    client.force_login(patient)
    client.get("/cabinet/")
    client.post("/logout/")

    page = client.get("/").content.decode()
    assert "Вы вышли из личного кабинета." in page
    assert NOTICE not in page
    assert NOTICE not in client.get("/").content.decode()


def test_a_visitor_who_never_signed_in_hears_nothing(client):
    assert NOTICE not in client.get("/").content.decode()
