import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.core.middleware import TOUCH_KEY

pytestmark = pytest.mark.django_db


def _session_writes(client, url="/cabinet/"):
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return [q["sql"] for q in queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]


def test_active_user_session_is_not_rewritten_on_every_request(client, patient):
    client.force_login(patient)
    client.get("/cabinet/")  # first touch
    assert _session_writes(client) == []


def _touched_long_ago(client, patient):
    """A logged-in session last touched long ago: (its key, its expiry in the database)."""
    client.force_login(patient)
    client.get("/cabinet/")
    session = client.session
    session[TOUCH_KEY] = 0  # long ago
    session.save()
    return session, Session.objects.get(session_key=session.session_key).expire_date


def test_idle_expiry_moves_forward_once_the_interval_has_passed(client, patient):
    session, before = _touched_long_ago(client, patient)
    assert len(_session_writes(client)) == 1
    after = Session.objects.get(session_key=session.session_key).expire_date
    assert after > before


def test_session_expires_after_an_hour_idle(settings):
    assert settings.SESSION_COOKIE_AGE == 3600
    assert not getattr(settings, "SESSION_SAVE_EVERY_REQUEST", False)


def test_an_active_session_ends_at_the_absolute_lifetime(client, patient, settings):
    """Used every minute, a session still ends SESSION_ABSOLUTE_SECONDS after login."""
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 3600
    from portal.core.middleware import LOGIN_AT_KEY

    client.force_login(patient)
    assert client.get("/cabinet/personal/").status_code == 200
    session = client.session
    session[LOGIN_AT_KEY] -= 12 * 3600 - 60  # logged in 11 h 59 min ago
    session.save()
    assert client.get("/cabinet/personal/").status_code == 200
    session = client.session
    session[LOGIN_AT_KEY] -= 61  # now 12 h and a second
    session.save()
    response = client.get("/cabinet/personal/")
    assert response.status_code == 302, "logged out: back to the login page"
    page = client.get(response["Location"]).content.decode()
    assert "войдите снова" in page
    assert "_auth_user_id" not in client.session


def test_a_new_login_restarts_the_absolute_lifetime(client, patient):
    from portal.core.middleware import LOGIN_AT_KEY

    client.force_login(patient)
    session = client.session
    session[LOGIN_AT_KEY] = 0
    session.save()
    client.force_login(patient)
    assert client.session[LOGIN_AT_KEY] > 0


def test_with_the_cache_the_session_and_the_directorys_generation_are_one_read(
    client, patient, settings, monkeypatch
):
    """Production's engine (portal.core.sessions): a wizard page asks the shared cache
    once, for the session and the directory's generation together."""
    from django.core.cache import caches

    from portal.directory.cache import GENERATION_KEY

    settings.SESSION_ENGINE = "portal.core.sessions"
    client.force_login(patient)
    assert client.get("/booking/").status_code == 200  # the session and generation cached
    cache = caches["default"]
    asked: list[tuple[str, ...]] = []
    inside: list[bool] = []  # the memory cache's get_many asks get(): not a round trip

    def counted(call, keys):
        if not inside:
            asked.append(keys)
        inside.append(True)
        try:
            return call()
        finally:
            inside.pop()

    get, get_many = cache.get, cache.get_many
    monkeypatch.setattr(
        cache, "get", lambda key, *a, **k: counted(lambda: get(key, *a, **k), (key,))
    )
    monkeypatch.setattr(
        cache,
        "get_many",
        lambda keys, *a, **k: counted(lambda: get_many(keys, *a, **k), tuple(keys)),
    )
    assert client.get("/booking/").status_code == 200
    assert len(asked) == 1 and GENERATION_KEY in asked[0] and len(asked[0]) == 2


def test_a_session_missing_from_the_cache_is_read_from_the_database(client, patient, settings):
    from django.core.cache import caches

    settings.SESSION_ENGINE = "portal.core.sessions"
    client.force_login(patient)
    assert client.get("/cabinet/").status_code == 200
    caches["default"].clear()
    page = client.get("/cabinet/")
    assert page.status_code == 200 and patient.patient.last_name in page.content.decode()


def test_a_touch_is_one_update_and_the_database_has_it_when_the_cache_is_gone(
    client, patient, settings
):
    """Production's engine: the minute's touch writes the row in one statement (no
    transaction around it), and a worker whose cache lost the session reads the new
    expiry and data from the database."""
    from django.core.cache import caches

    settings.SESSION_ENGINE = "portal.core.sessions"
    session, before = _touched_long_ago(client, patient)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/cabinet/").status_code == 200
    writes = [q["sql"] for q in queries if "django_session" in q["sql"]]
    assert len(writes) == 1 and writes[0].startswith("UPDATE")
    caches["default"].clear()
    row = Session.objects.get(session_key=session.session_key)
    assert row.expire_date > before and row.get_decoded()[TOUCH_KEY] > 0
    page = client.get("/cabinet/")
    assert page.status_code == 200 and patient.patient.last_name in page.content.decode()


def test_a_session_deleted_before_its_touch_is_not_written_back(client, patient, settings):
    """Logged out in another tab while this request ran: Django's UpdateError, and no row
    comes back to life."""
    from importlib import import_module

    from django.contrib.sessions.backends.base import UpdateError

    settings.SESSION_ENGINE = "portal.core.sessions"
    client.force_login(patient)
    key = client.session.session_key
    store = import_module("portal.core.sessions").SessionStore(key)
    store[TOUCH_KEY] = 1
    Session.objects.filter(session_key=key).delete()
    with pytest.raises(UpdateError):
        store.save()
    assert not Session.objects.filter(session_key=key).exists()
