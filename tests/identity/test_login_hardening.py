"""Login under attack and under faults: rate limits per IP, a slow ESIA, hostile `next`."""

import socket
import threading

import pytest
from django.test import Client

from portal.identity.models import User
from tests.esia_fixtures import emulator_choose
from tests.identity.test_login_flow import ANNA, _back, _start, login_as_persona

pytestmark = pytest.mark.django_db


def test_login_start_is_limited_per_ip(client, esia_setup, settings):
    settings.RATE_LOGIN_START_IP = "2/m"
    assert [client.get("/login/esia/").status_code for _ in range(2)] == [302, 302]
    refused = client.get("/login/esia/")
    assert refused.status_code == 429 and "Повторите через" in refused.content.decode()
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert Client(REMOTE_ADDR="203.0.113.7").get("/login/esia/").status_code == 302


def test_login_callback_is_limited_per_ip(client, settings):
    """Forged states cost the guesser their budget; the 429 comes before any ESIA call."""
    settings.RATE_LOGIN_CALLBACK_IP = "3/m"
    forged = {"code": "x", "state": "forged-state"}
    statuses = [client.get("/login/esia/callback/", forged).status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]


@pytest.fixture
def silent_esia():
    """A server that accepts connections and never answers: ESIA hanging."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_hanging_esia_gives_a_retry_page_after_the_configured_timeout(
    client, esia_setup, settings, silent_esia
):
    back = emulator_choose(_start(client), oid=ANNA)
    settings.ESIA_BASE_URL = silent_esia
    settings.ESIA_TIMEOUT_SECONDS = 1
    response = _back(client, back)
    assert response.status_code == 503
    assert "Госуслуги (ЕСИА) сейчас не отвечают" in response.content.decode()
    assert not User.objects.filter(esia_oid=ANNA).exists()


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/cabinet/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/%0d%0aSet-Cookie:x=1",
    ],
)
def test_a_foreign_next_ends_in_the_cabinet_after_login(client, esia_setup, target):
    location = login_as_persona(client, ANNA, target)["Location"]
    assert location == "/cabinet/" or (location.startswith("/") and "evil" not in location)
    assert "\n" not in location and "\r" not in location


def test_a_code_from_another_browsers_login_is_refused(esia_setup, settings):
    """Code injection: the attacker starts a login in their own browser, then feeds its
    callback a code meant for the victim's browser. The state is the attacker's own, so
    only the nonce (in the victim's id_token) tells the two logins apart."""
    from urllib.parse import parse_qs, urlsplit

    victim, attacker = Client(), Client()
    victims_back = emulator_choose(_start(victim), oid=ANNA)
    stolen_code = parse_qs(urlsplit(victims_back).query)["code"][0]
    own_state = parse_qs(urlsplit(_start(attacker)).query)["state"][0]
    response = attacker.get("/login/esia/callback/", {"code": stolen_code, "state": own_state})
    assert response.status_code == 502
    assert "Не удалось проверить ответ Госуслуг" in response.content.decode()
    assert not User.objects.filter(esia_oid=ANNA).exists()


@pytest.mark.parametrize(("required", "status"), [(False, 302), (True, 502)])
def test_an_id_token_without_a_nonce_passes_only_while_not_required(
    client, esia_setup, settings, monkeypatch, required, status
):
    from portal.identity import esia

    settings.ESIA_NONCE_REQUIRED = required
    real_url = esia.authorization_url
    monkeypatch.setattr(esia, "authorization_url", lambda state, nonce="": real_url(state))
    response = login_as_persona(client, ANNA)
    assert response.status_code == status


def test_esias_error_text_cannot_forge_log_lines(client, esia_setup):
    """Raw records, caught at the view's own logger before any filter can mend them."""
    import logging
    from urllib.parse import parse_qs, urlsplit

    class Raw(logging.Handler):
        def __init__(self):
            super().__init__()
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    raw = Raw()
    view_log = logging.getLogger("portal.identity.views")
    view_log.addHandler(raw)
    view_log.setLevel(logging.INFO)
    state = parse_qs(urlsplit(_start(client)).query)["state"][0]
    forged = "ESIA-007002\r\n2026-12-01 06:00:00 INFO portal login ok for admin"
    try:
        client.get(
            "/login/esia/callback/",
            {"state": state, "error": "server_error\nX", "error_description": forged},
        )
    finally:
        view_log.removeHandler(raw)
        view_log.setLevel(logging.NOTSET)
    assert len(raw.messages) == 2
    assert all("\n" not in m and "\r" not in m for m in raw.messages), raw.messages
