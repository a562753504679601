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


def test_idle_expiry_moves_forward_once_the_interval_has_passed(client, patient):
    client.force_login(patient)
    client.get("/cabinet/")
    session = client.session
    session[TOUCH_KEY] = 0  # long ago
    session.save()
    before = Session.objects.get(session_key=session.session_key).expire_date
    assert len(_session_writes(client)) == 1
    after = Session.objects.get(session_key=session.session_key).expire_date
    assert after > before


def test_session_expires_after_an_hour_idle(settings):
    assert settings.SESSION_COOKIE_AGE == 3600
    assert not getattr(settings, "SESSION_SAVE_EVERY_REQUEST", False)
