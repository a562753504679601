"""The emulator refuses what real ESIA refuses, with ESIA's error codes."""

import subprocess
import sys
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from portal.identity import esia
from tests.esia_fixtures import emulator_choose

ANNA = "1000320001"


@pytest.fixture
def authorize(esia_setup, esia_emulator_url):
    """Send a signed authorization request with some parameters changed."""

    def send(**changes):
        query = parse_qs(urlsplit(esia.authorization_url(esia.new_state())).query)
        params = {k: v[0] for k, v in query.items()} | changes
        params = {k: v for k, v in params.items() if v is not None}
        return httpx.get(f"{esia_emulator_url}/aas/oauth2/v2/ac?{urlencode(params)}")

    return send


def _esia_error(response):
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return query["error_description"][0].split(":")[0]


def test_a_correct_request_shows_the_personas(authorize):
    page = authorize()
    assert page.status_code == 200
    assert "Иванова Анна Петровна" in page.text and "Отмена" in page.text


def test_unknown_client_and_unregistered_redirect_stay_on_the_esia_page(authorize):
    unknown = authorize(client_id="SOMEONE_ELSE")
    assert unknown.status_code == 400 and "ESIA-007005" in unknown.text
    foreign = authorize(redirect_uri="https://evil.example/cb")
    assert foreign.status_code == 400 and "ESIA-007023" in foreign.text


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"client_secret": "A" * 86}, "ESIA-007053"),
        ({"scope": "openid fullname snils"}, "ESIA-007053"),  # signed over another scope
        ({"client_certificate_hash": "0" * 64}, "ESIA-007002"),
        ({"client_certificate_hash": None}, "ESIA-007014"),
        ({"timestamp": "2020.01.01 00:00:00 +0000"}, "ESIA-007015"),
        ({"timestamp": "2020-01-01T00:00:00Z"}, "ESIA-007015"),
        ({"scope": "fullname"}, "ESIA-007013"),
        ({"scope": "openid telepathy"}, "ESIA-007006"),
        ({"state": "not-a-uuid"}, "ESIA-007014"),
    ],
)
def test_bad_requests_go_back_with_esia_error_codes(authorize, changes, code):
    assert _esia_error(authorize(**changes)) == code


def test_the_token_endpoint_checks_the_signed_secret_and_single_use_codes(
    esia_setup, esia_emulator_url, client
):
    back = emulator_choose(esia.authorization_url(esia.new_state()), oid=ANNA)
    code = parse_qs(urlsplit(back).query)["code"][0]
    with pytest.raises(esia.EsiaError) as wrong_secret:
        fields = esia._client_fields(esia.new_state(), esia.esia_timestamp(), extra="other")
        answer = httpx.post(
            f"{esia_emulator_url}/aas/oauth2/v3/te",
            data=fields
            | {"code": code, "grant_type": "authorization_code", "token_type": "Bearer"},
        )
        raise esia.EsiaError("rejected", esia._esia_code(answer.json()))
    assert wrong_secret.value.code == "ESIA-007053"
    assert "id_token" in esia.tokens_exchange(code)
    with pytest.raises(esia.EsiaError) as reused:
        esia.tokens_exchange(code)
    assert reused.value.code == "ESIA-007011"


def test_codes_expire(esia_setup, monkeypatch):
    back = emulator_choose(esia.authorization_url(esia.new_state()), oid=ANNA)
    code = parse_qs(urlsplit(back).query)["code"][0]
    later = time.time() + 600
    monkeypatch.setattr("portal.esia_emulator.protocol.time.time", lambda: later)
    monkeypatch.setattr("portal.esia_emulator.protocol.TIMESTAMP_SKEW", 10**6)
    with pytest.raises(esia.EsiaError) as expired:
        esia.tokens_exchange(code)
    assert expired.value.code == "ESIA-007011"


def test_rest_needs_a_token_for_that_person(esia_setup, esia_emulator_url):
    back = emulator_choose(esia.authorization_url(esia.new_state()), oid=ANNA)
    tokens = esia.tokens_exchange(parse_qs(urlsplit(back).query)["code"][0])
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    base = f"{esia_emulator_url}/rs/prns"
    assert httpx.get(f"{base}/{ANNA}").status_code == 401
    assert httpx.get(f"{base}/1000320002", headers=bearer).status_code == 401
    person = httpx.get(f"{base}/{ANNA}", headers=bearer).json()
    assert person["trusted"] is True and "contacts" not in person
    contacts = httpx.get(f"{base}/{ANNA}/ctts?embed=(elements)", headers=bearer).json()
    assert {c["type"] for c in contacts["elements"]} == {"EML", "MBT"}
    links = httpx.get(f"{base}/{ANNA}/kids", headers=bearer).json()
    assert links["size"] == 2 and links["elements"][0].startswith("http")


def test_logout_returns_only_to_the_registered_site(esia_setup, esia_emulator_url):
    url = f"{esia_emulator_url}/idp/ext/Logout"
    home = httpx.get(url, params={"client_id": "PORTAL_TEST", "redirect_url": "http://testserver/"})
    assert home.status_code == 302 and home.headers["location"] == "http://testserver/"
    evil = httpx.get(
        url, params={"client_id": "PORTAL_TEST", "redirect_url": "https://evil.example/"}
    )
    assert evil.status_code == 200 and "Вы вышли" in evil.text


def test_a_switched_off_emulator_answers_nothing(esia_setup, esia_emulator_url, settings):
    settings.ESIA_EMULATOR_ENABLED = False
    assert httpx.get(f"{esia_emulator_url}/aas/oauth2/v2/ac").status_code == 404


def _settings_import(**env):
    code = (
        "import django; django.setup(); "
        "from django.conf import settings as s; print(s.INSTALLED_APPS)"
    )
    clean = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "SECRET_KEY": "x" * 50,
    }
    return subprocess.run(
        [sys.executable, "-c", code], env=clean | env, capture_output=True, text=True, check=False
    )


def test_the_emulator_cannot_be_switched_on_in_production(tmp_path):
    data = {"PORTAL_DATA_DIR": str(tmp_path)}
    production = _settings_import(DEBUG="0", **data)
    assert production.returncode == 0 and "esia_emulator" not in production.stdout
    forced = _settings_import(DEBUG="0", ESIA_EMULATOR_ENABLED="1", **data)
    assert forced.returncode != 0 and "ESIA_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION" in forced.stderr
    stand = _settings_import(
        DEBUG="0", ESIA_EMULATOR_ENABLED="1", ESIA_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION="1", **data
    )
    assert stand.returncode == 0 and "esia_emulator" in stand.stdout


def test_the_nonce_of_the_authorization_request_comes_back_in_the_id_token(esia_setup):
    from portal.identity import jwt

    back = emulator_choose(esia.authorization_url(esia.new_state(), nonce="n-123"), oid=ANNA)
    code = parse_qs(urlsplit(back).query)["code"][0]
    tokens = esia.tokens_exchange(code)
    assert jwt.unverified_parts(tokens["id_token"])[1]["nonce"] == "n-123"
    # Without a nonce in the request there is none in the token.
    back = emulator_choose(esia.authorization_url(esia.new_state()), oid=ANNA)
    tokens = esia.tokens_exchange(parse_qs(urlsplit(back).query)["code"][0])
    assert "nonce" not in jwt.unverified_parts(tokens["id_token"])[1]
