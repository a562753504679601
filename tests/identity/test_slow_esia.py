"""A slow ESIA costs a login a few seconds, never a worker (docs/security.md).

The portal is Django's test client here; tests/identity/test_slow_esia_gunicorn.py runs
the same ESIA behaviour against gunicorn with the deployed numbers.
"""

import time

import pytest

from portal.identity.models import User
from portal.patients.models import Patient
from tests.esia_fixtures import emulator_choose, esia_configure
from tests.identity.test_login_flow import ANNA, _back, _start
from tests.slow_esia import slow_esia

pytestmark = pytest.mark.django_db


@pytest.fixture
def slow(settings, esia_keys, esia_emulator_url):
    """The portal talks to ESIA through the slowing proxy; the browser does too."""
    for url, behaviour in slow_esia(esia_emulator_url):
        esia_configure(settings, esia_keys, url, "http://testserver")
        yield behaviour


def _login_timed(client, oid=ANNA):
    back = emulator_choose(_start(client), oid=oid)
    started = time.monotonic()
    response = _back(client, back)
    return response, time.monotonic() - started


def test_esia_answering_each_call_slowly_ends_on_the_retry_page_at_the_deadline(
    client, slow, settings
):
    settings.ESIA_LOGIN_DEADLINE_SECONDS = 3
    slow.modes[ANNA], slow.delay = "slow", 2.0  # token 2 s, then the person call 2 s more
    response, elapsed = _login_timed(client)
    assert response.status_code == 503
    assert "Госуслуги (ЕСИА) сейчас не отвечают" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert elapsed < 3 + 0.7
    assert not User.objects.filter(esia_oid=ANNA).exists()


def test_a_token_endpoint_dripping_bytes_hits_the_deadline_not_the_read_timeout(
    client, slow, settings
):
    """Each byte comes well within the read timeout, so only a total deadline stops it."""
    settings.ESIA_LOGIN_DEADLINE_SECONDS = 3
    settings.ESIA_TIMEOUT_SECONDS = 10
    slow.modes[ANNA], slow.drip = "drip", 0.5
    response, elapsed = _login_timed(client)
    assert response.status_code == 503
    assert elapsed < 3 + 0.7
    assert [mode for mode, path, _ in slow.calls if path == "/aas/oauth2/v3/te"] == ["drip"]


def test_the_childrens_documents_are_fetched_side_by_side(client, slow, settings):
    """Token, person, then both children at once: three calls' time, not four."""
    settings.ESIA_LOGIN_DEADLINE_SECONDS = 10
    slow.modes[ANNA], slow.delay = "slow", 1.5
    response, _elapsed = _login_timed(client)
    assert response.status_code == 302 and response["Location"] == "/cabinet/"
    kid_calls = sorted(at for mode, path, at in slow.calls if path.endswith("/docs"))
    assert len(kid_calls) == 2 and kid_calls[1] - kid_calls[0] < 0.5, "in parallel"
    kids = Patient.objects.get(esia_oid=ANNA).esia_kids
    assert [kid["policy_number"] for kid in kids] == ["3802020202020212", "3803030303030316"]


def test_childrens_documents_that_do_not_come_in_time_are_skipped(client, slow, settings):
    """The documents only prefill the «add from Gosuslugi» offer: the login goes on."""
    settings.ESIA_LOGIN_DEADLINE_SECONDS = 3
    slow.path_modes["/docs"], slow.delay = "slow", 12.0
    response, elapsed = _login_timed(client)
    assert response.status_code == 302, "logged in without the children's documents"
    assert elapsed < 3 + 0.7
    kids = Patient.objects.get(esia_oid=ANNA).esia_kids
    assert [kid["first_name"] for kid in kids] == ["Мария", "Пётр"]
    assert all(kid["policy_number"] == "" for kid in kids)


@pytest.mark.parametrize("echoed", ["another", "missing"])
def test_a_token_answer_that_does_not_echo_our_state_is_refused(client, slow, echoed):
    """ESIA echoes the token request's own fresh `state` (docs/esia.md); an answer that
    echoes another — a replayed or spliced response — is not ours (issue 23). Before,
    the echo was never compared and the login went through."""
    import json
    import uuid

    def tamper(path: str, body: bytes) -> bytes:
        if not path.endswith("/aas/oauth2/v3/te"):
            return body
        answer = json.loads(body)
        if echoed == "another":
            answer["state"] = str(uuid.uuid4())
        else:
            answer.pop("state", None)
        return json.dumps(answer).encode()

    slow.rewrite = tamper
    response = _back(client, emulator_choose(_start(client), oid=ANNA))

    assert response.status_code == 502
    assert "Не удалось проверить ответ Госуслуг" in response.content.decode()
    assert "_auth_user_id" not in client.session
