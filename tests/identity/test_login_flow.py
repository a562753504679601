"""The whole ESIA login over HTTP: the portal (test client) talks to the emulator over httpx."""

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY

from portal.audit.models import AuditEvent
from portal.demo.personas import birth_date, kid_by_key, persona_by_key
from portal.identity import esia, views
from portal.identity.models import User
from portal.patients.models import Patient
from tests.esia_fixtures import emulator_choose

pytestmark = pytest.mark.django_db

ANNA, IVAN, PETROV, SIDOROVA, ARTEM, SMIRNOVA, SOKOLOV, SONYA = (
    f"10003200{n:02d}" for n in range(1, 9)
)


def _start(client, next_path=""):
    response = client.get("/login/esia/" + (f"?next={next_path}" if next_path else ""))
    assert response.status_code == 302
    return response["Location"]


def _back(client, location):
    """Follow ESIA's redirect to the portal's callback in the same browser."""
    parts = urlsplit(location)
    return client.get(parts.path, parse_qs(parts.query))


def login_as_persona(client, oid, next_path=""):
    return _back(client, emulator_choose(_start(client, next_path), oid=oid))


def refusal_page(client, response, reason):
    """A refused login ends on a page of its own (issue 16, item 17), not on the callback."""
    assert response.status_code == 302
    assert response["Location"].startswith(f"/login/refused/{reason}/")
    return client.get(response["Location"])


def test_authorization_request_carries_every_esia_parameter(client, esia_setup):
    query = parse_qs(urlsplit(_start(client)).query)
    assert set(query) >= {
        "client_id", "client_certificate_hash", "client_secret", "redirect_uri", "scope",
        "response_type", "state", "access_type", "timestamp",
    }  # fmt: skip
    assert query["redirect_uri"] == ["http://testserver/login/esia/callback/"]
    assert query["timestamp"][0][:4].isdigit() and query["timestamp"][0][4] == "."
    assert len(query["client_certificate_hash"][0]) == 64
    assert "=" not in query["client_secret"][0]
    assert _start(client) != _start(client), "a fresh state every time"


def test_confirmed_adult_enters_the_cabinet_with_records_from_esia(client, esia_setup):
    client.get("/")
    anonymous_key = client.session.session_key
    response = login_as_persona(client, ANNA)
    assert response.status_code == 302 and response["Location"] == "/cabinet/"
    assert client.session.session_key != anonymous_key, "session key rotated at login"

    user = User.objects.get(esia_oid=ANNA)
    assert user.username == f"esia-{ANNA}" and not user.has_usable_password()
    patient = Patient.objects.get(user=user)
    assert (patient.last_name, patient.first_name, patient.middle_name) == (
        "Иванова",
        "Анна",
        "Петровна",
    )
    assert patient.birth_date == birth_date(persona_by_key("anna")) and patient.sex == "F"
    assert patient.snils == "156-301-789 58"
    assert (patient.email, patient.phone) == ("anna.ivanova@example.ru", "+7(914)0000001")
    assert (patient.policy_kind, patient.policy_series, patient.policy_number) == (
        "3",
        "",
        "3801010101010126",
    )
    assert [
        (k["first_name"], k["birth_date"], k["sex"], k["policy_number"]) for k in patient.esia_kids
    ] == [
        ("Мария", birth_date(kid_by_key("maria")).isoformat(), "F", "3802020202020212"),
        ("Пётр", birth_date(kid_by_key("petr")).isoformat(), "M", "3803030303030316"),
    ]
    cabinet = client.get("/cabinet/")
    assert "Иванова Анна Петровна" in cabinet.content.decode()

    event = AuditEvent.objects.get(action="login")
    assert event.user == user and event.patient == patient
    assert "156-301" not in str(event.details) and "3801" not in str(event.details)
    assert "Иванова" not in str(event.details)


def test_a_later_login_updates_what_changed_without_a_second_record(client, esia_setup):
    login_as_persona(client, ANNA)
    Patient.objects.filter(esia_oid=ANNA).update(last_name="Девичья", phone="", esia_kids=[])
    client.logout()
    login_as_persona(client, ANNA)
    patient = Patient.objects.get(esia_oid=ANNA)
    assert (patient.last_name, patient.phone, len(patient.esia_kids)) == (
        "Иванова",
        "+7(914)0000001",
        2,
    )
    assert Patient.objects.filter(esia_oid=ANNA).count() == 1 and User.objects.count() == 1


def test_old_format_policy_and_missing_policy(client, esia_setup):
    login_as_persona(client, SOKOLOV)
    sokolov = Patient.objects.get(esia_oid=SOKOLOV)
    assert (sokolov.policy_kind, sokolov.policy_series, sokolov.policy_number) == (
        "1",
        "3805",
        "123456",
    )
    client.logout()
    login_as_persona(client, SMIRNOVA)
    smirnova = Patient.objects.get(esia_oid=SMIRNOVA)
    assert (smirnova.policy_kind, smirnova.policy_number) == ("", "")


@pytest.mark.parametrize(("oid", "level_text"), [(PETROV, "стандартной"), (SIDOROVA, "упрощённой")])
def test_unconfirmed_accounts_see_the_explanation_and_get_no_records(
    client, esia_setup, oid, level_text
):
    response = refusal_page(client, login_as_persona(client, oid), "not_confirmed")
    assert response.status_code == 403
    page = response.content.decode()
    assert level_text in page and "подтверждённая учётная запись" in page
    assert "Как подтвердить учётную запись?" in page
    assert SESSION_KEY not in client.session
    assert not Patient.objects.exists() and not User.objects.exists()
    event = AuditEvent.objects.get(action="login_refused")
    assert event.details["reason"] == "not_confirmed"


def test_a_child_account_is_refused_as_underage(client, esia_setup):
    response = refusal_page(client, login_as_persona(client, SONYA), "underage")
    assert response.status_code == 403 and "Вход доступен с 14 лет" in response.content.decode()
    assert not Patient.objects.exists()


def test_a_confirmed_teenager_under_the_minimum_age_is_refused(client, esia_setup, settings):
    settings.ESIA_MIN_AGE = 30  # Артём is 15: raise the bar instead of waiting for time to pass
    response = refusal_page(client, login_as_persona(client, ARTEM), "underage")
    assert response.status_code == 403 and not Patient.objects.exists()
    settings.ESIA_MIN_AGE = 14
    assert login_as_persona(client, ARTEM)["Location"] == "/cabinet/"


def test_a_reloaded_refusal_still_explains_and_is_audited_once(client, esia_setup):
    location = login_as_persona(client, PETROV)["Location"]
    for _ in range(2):  # the reload: the same explanation, not a generic error
        page = client.get(location)
        assert page.status_code == 403
        assert "стандартной" in page.content.decode()
    assert AuditEvent.objects.filter(action="login_refused").count() == 1
    assert client.get("/login/refused/anything/").status_code == 302
    assert "<script>" not in client.get("/login/refused/underage/?level=<script>").content.decode()


def test_the_cabinets_login_button_carries_next_through_esia(client, esia_setup):
    page = client.get("/cabinet/?next=/booking/").content.decode()
    assert 'href="/login/esia/?next=/booking/"' in page
    assert login_as_persona(client, ANNA, "/booking/")["Location"] == "/booking/"
    client.logout()
    # A foreign target is carried to the login but dropped there.
    assert (
        "next=https%3A//evil.example/"
        in client.get("/cabinet/?next=https://evil.example/").content.decode()
    )
    assert login_as_persona(client, ANNA, "https://evil.example/")["Location"] == "/cabinet/"


def test_next_is_kept_only_for_paths_on_this_site(client, esia_setup, rf):
    assert login_as_persona(client, ANNA, "/districts/")["Location"] == "/districts/"
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        assert views._safe_next(rf.get("/login/esia/", {"next": target})) == ""


def test_a_reused_state_is_refused(client, esia_setup):
    back = emulator_choose(_start(client), oid=ANNA)
    assert _back(client, back).status_code == 302
    client.logout()
    replay = _back(client, back)
    assert replay.status_code == 400 and "устарела" in replay.content.decode()


def test_a_state_from_another_browser_is_refused(client, esia_setup, django_user_model):
    from django.test import Client

    back = emulator_choose(_start(Client()), oid=ANNA)
    response = _back(client, back)
    assert response.status_code == 400 and not User.objects.exists()


def test_a_reused_code_is_refused_by_esia(client, esia_setup):
    back = emulator_choose(_start(client), oid=ANNA)
    assert _back(client, back).status_code == 302
    client.logout()
    fresh_state = parse_qs(urlsplit(_start(client)).query)["state"][0]
    code = parse_qs(urlsplit(back).query)["code"][0]
    response = client.get("/login/esia/callback/", {"code": code, "state": fresh_state})
    assert response.status_code == 502
    assert "Код входа устарел или уже был использован" in response.content.decode()


def test_cancel_on_the_esia_page_returns_to_the_login_page(client, esia_setup):
    back = emulator_choose(_start(client), cancel=True)
    response = _back(client, back)
    assert response.status_code == 302 and response["Location"] == "/cabinet/"
    page = client.get("/cabinet/").content.decode()
    assert "Вход через Госуслуги отменён" in page and "Войти через ЕСИА" in page
    assert not AuditEvent.objects.filter(action="login").exists()


def test_an_esia_error_redirect_ends_on_a_clear_page(client, esia_setup):
    state = parse_qs(urlsplit(_start(client)).query)["state"][0]
    response = client.get(
        "/login/esia/callback/",
        {"error": "server_error", "error_description": "ESIA-007008: maintenance", "state": state},
    )
    assert response.status_code == 502
    assert "техническом обслуживании" in response.content.decode()


def test_esia_unreachable_ends_on_a_retry_page_and_logs_no_personal_data(
    client, esia_setup, settings, caplog
):
    back = emulator_choose(_start(client), oid=ANNA)
    settings.ESIA_BASE_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    with caplog.at_level(logging.INFO):
        response = _back(client, back)
    assert response.status_code == 503 and "не отвечают" in response.content.decode()
    assert "Войти через ЕСИА ещё раз" in response.content.decode()
    assert "Иванова" not in caplog.text and ANNA not in caplog.text


def test_a_token_signed_by_someone_else_is_refused(client, esia_setup, settings):
    settings.ESIA_CERT = esia_setup.stranger_cert
    response = login_as_persona(client, ANNA)
    assert response.status_code == 502 and not User.objects.exists()


def test_a_missing_signing_key_is_a_clear_page_not_a_500(client, esia_setup, settings, tmp_path):
    settings.ESIA_CLIENT_KEY = tmp_path / "missing.pem"
    response = client.get("/login/esia/")
    assert response.status_code == 503 and "технически" in response.content.decode()


def test_http_calls_to_esia_have_timeouts(settings):
    settings.ESIA_TIMEOUT_SECONDS = 7
    timeout = esia._http().timeout
    assert timeout.read == 7 and timeout.connect == 5


def test_logout_ends_the_session_and_goes_through_esia_logout(client, esia_setup):
    login_as_persona(client, ANNA)
    assert client.get("/logout/").status_code == 405, "logout is a POST (CSRF-protected)"
    response = client.post("/logout/")
    location = urlsplit(response["Location"])
    assert location.path == "/idp/ext/Logout"
    assert parse_qs(location.query) == {
        "client_id": ["PORTAL_TEST"],
        "redirect_url": ["http://testserver/"],
    }
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action="logout").count() == 1
    # Back from ESIA's logout, the home page says what happened (issue 27).
    assert "Вы вышли из личного кабинета." in client.get("/").content.decode()
    assert "Войти через ЕСИА" in client.get("/cabinet/").content.decode()
