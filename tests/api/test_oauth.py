"""The authorization server: code + PKCE, consent in Russian, tokens, refresh, withdrawal."""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.api.conftest import (
    FHIR,
    REDIRECT,
    Fhir,
    authorize_params,
    code_from,
    exchange,
    pkce_pair,
)

pytestmark = pytest.mark.django_db


def _consent(client, app, challenge, **extra):
    page = client.get("/oauth/authorize/", authorize_params(app, challenge, **extra))
    assert page.status_code == 200, page.content[:300]
    return page


def _allow(client, page):
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    return client.post("/oauth/authorize/", {**form, "allow": "on"})


def test_an_anonymous_visitor_is_sent_to_the_esia_login_and_back(client, app):
    _, challenge = pkce_pair()
    response = client.get("/oauth/authorize/", authorize_params(app, challenge))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/esia/?next=/oauth/authorize/")


def test_the_patient_consents_in_russian_and_the_app_gets_a_short_lived_token(
    client, guardian, child, app
):
    client.force_login(guardian)
    verifier, challenge = pkce_pair()
    page = _consent(client, app, challenge)
    text = page.content.decode()
    assert "Приложение «Здоровье Приангарья» просит доступ" in text
    assert "записывать вас и ваших детей к врачу" in text
    assert child.full_name in text and guardian.patient.full_name in text
    form_action = page["Content-Security-Policy"].split("form-action")[1].split(";")[0]
    assert "https://app.example" in form_action.split()

    answer = _allow(client, page)
    assert answer.status_code == 302 and answer["Location"].startswith(REDIRECT)
    tokens = exchange(client, app, code_from(answer["Location"]), verifier)
    assert tokens["expires_in"] == 600 and tokens["refresh_token"]
    assert set(tokens["scope"].split()) == {
        "patient/Patient.r", "patient/Appointment.rs", "patient/Appointment.cu",
        "patient/ServiceRequest.rs",
        "patient/Task.crs",
    }  # fmt: skip
    me = Fhir(client, tokens["access_token"]).get("Patient")
    assert me.status_code == 200
    assert {e["resource"]["id"] for e in me.body["entry"]} == {
        str(guardian.patient.pk),
        str(child.pk),
    }


def test_a_refusal_on_the_consent_page_tells_the_app_access_denied(client, patient, app):
    client.force_login(patient)
    _, challenge = pkce_pair()
    page = _consent(client, app, challenge)
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    answer = client.post("/oauth/authorize/", form)
    assert "error=access_denied" in answer["Location"]


def test_pkce_is_required_and_must_be_s256(client, patient, app):
    client.force_login(patient)
    params = authorize_params(app, "x")
    del params["code_challenge"], params["code_challenge_method"]
    no_pkce = client.get("/oauth/authorize/", params)
    assert no_pkce.status_code == 302 and "error=invalid_request" in no_pkce["Location"]
    verifier, _ = pkce_pair()
    plain = client.get(
        "/oauth/authorize/", authorize_params(app, verifier, code_challenge_method="plain")
    )
    # Back to the app with the error, as RFC 6749 §4.1.2.1 asks (issue 23: an HTML page).
    assert plain.status_code == 302 and plain["Location"].startswith(REDIRECT)
    answer = parse_qs(urlsplit(plain["Location"]).query)
    assert answer["error"] == ["invalid_request"] and answer["state"] == ["st-1"]
    assert "S256" in answer["error_description"][0] and answer["iss"]


def test_an_unknown_app_with_plain_pkce_is_told_on_our_page_and_not_redirected(client, patient):
    client.force_login(patient)
    params = {
        "response_type": "code", "client_id": "nobody", "redirect_uri": "https://evil.example/",
        "code_challenge": "x" * 43, "code_challenge_method": "plain", "aud": FHIR,
    }  # fmt: skip
    page = client.get("/oauth/authorize/", params)
    assert page.status_code == 400 and "S256" in page.content.decode()


def test_a_wrong_code_verifier_gets_no_token(client, patient, app):
    client.force_login(patient)
    _, challenge = pkce_pair()
    code = code_from(_allow(client, _consent(client, app, challenge))["Location"])
    response = client.post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": app.client_id,
            "code_verifier": "a" * 50,
        },
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_an_authorization_for_another_server_goes_back_to_the_app_as_invalid_target(
    client, patient, app
):
    client.force_login(patient)
    _, challenge = pkce_pair()
    page = client.get(
        "/oauth/authorize/", authorize_params(app, challenge, aud="https://evil.example/fhir")
    )
    assert page.status_code == 302 and page["Location"].startswith(REDIRECT)
    assert parse_qs(urlsplit(page["Location"]).query)["error"] == ["invalid_target"]


def test_an_unregistered_redirect_with_another_server_is_refused_in_russian(client, patient, app):
    client.force_login(patient)
    _, challenge = pkce_pair()
    params = authorize_params(
        app, challenge, aud="https://evil.example/fhir", redirect_uri="https://evil.example/cb"
    )
    page = client.get("/oauth/authorize/", params)
    assert page.status_code == 400
    assert f"со значением {FHIR}" in page.content.decode()


def test_the_server_named_with_a_trailing_slash_is_the_same_server(client, patient, app):
    client.force_login(patient)
    verifier, challenge = pkce_pair()
    page = _consent(client, app, challenge, aud=FHIR + "/")
    tokens = exchange(client, app, code_from(_allow(client, page)["Location"]), verifier)
    assert Fhir(client, tokens["access_token"]).get("Patient").status_code == 200


def _tokens(client, user, app):
    client.force_login(user)
    verifier, challenge = pkce_pair()
    code = code_from(_allow(client, _consent(client, app, challenge))["Location"])
    return exchange(client, app, code, verifier)


def test_a_refresh_token_works_for_its_own_app_only(client, patient, app, other_app):
    tokens = _tokens(client, patient, app)
    stolen = client.post(
        "/oauth/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": other_app.client_id,
        },
    )
    assert stolen.status_code in (400, 401)
    fresh = client.post(
        "/oauth/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": app.client_id,
        },
    )
    assert fresh.status_code == 200, fresh.content
    assert Fhir(client, fresh.json()["access_token"]).get("Patient").status_code == 200


def test_withdrawing_consent_revokes_every_token_of_the_app(client, patient, app):
    tokens = _tokens(client, patient, app)
    personal = client.get("/cabinet/personal/")
    assert "/oauth/consents/" in personal.content.decode()
    listing = client.get("/oauth/consents/")
    assert "Здоровье Приангарья" in listing.content.decode()
    assert "записывать вас и ваших детей к врачу" in listing.content.decode()

    client.post(f"/oauth/consents/{app.pk}/withdraw/")
    assert "Ни одно приложение" in client.get("/oauth/consents/").content.decode()
    refused = Fhir(client, tokens["access_token"]).get("Patient")
    assert refused.status_code == 401
    again = client.post(
        "/oauth/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": app.client_id,
        },
    )
    assert again.status_code == 400


def test_withdrawing_another_persons_consent_does_nothing(client, patient, stranger, app):
    tokens = _tokens(client, patient, app)
    client.force_login(stranger)
    client.post(f"/oauth/consents/{app.pk}/withdraw/")
    assert Fhir(client, tokens["access_token"]).get("Patient").status_code == 200


def test_a_revoked_access_token_is_refused(client, patient, app):
    tokens = _tokens(client, patient, app)
    client.post(
        "/oauth/revoke_token/",
        {"token": tokens["access_token"], "client_id": app.client_id},
    )
    assert Fhir(client, tokens["access_token"]).get("Patient").status_code == 401


def _exchange_again(client, app, code, verifier):
    return client.post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": app.client_id,
            "code_verifier": verifier,
        },
    )


def _refreshed(client, app, refresh_token):
    return client.post(
        "/oauth/token/",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": app.client_id},
    )


def test_a_reused_code_revokes_every_token_it_gave_and_their_refreshes(client, patient, app):
    """RFC 6749 §4.1.2: a code seen twice was stolen; what it issued must stop working.
    Before (issue 24, point 9) the replay was refused but the first tokens lived on."""
    client.force_login(patient)
    verifier, challenge = pkce_pair()
    code = code_from(_allow(client, _consent(client, app, challenge))["Location"])
    first = exchange(client, app, code, verifier)
    rotated = _refreshed(client, app, first["refresh_token"]).json()
    assert Fhir(client, rotated["access_token"]).get("Patient").status_code == 200

    replay = _exchange_again(client, app, code, verifier)

    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert Fhir(client, first["access_token"]).get("Patient").status_code == 401
    assert Fhir(client, rotated["access_token"]).get("Patient").status_code == 401
    assert _refreshed(client, app, rotated["refresh_token"]).status_code == 400


def test_a_reused_code_of_another_app_revokes_nothing(client, patient, app, other_app):
    client.force_login(patient)
    verifier, challenge = pkce_pair()
    code = code_from(_allow(client, _consent(client, app, challenge))["Location"])
    tokens = exchange(client, app, code, verifier)

    assert _exchange_again(client, other_app, code, verifier).status_code in (400, 401)

    assert Fhir(client, tokens["access_token"]).get("Patient").status_code == 200


@pytest.mark.parametrize("password", ["clerk-password-1", "wrong-password"])
def test_the_token_endpoint_runs_no_password_grant(client, app, clerk, password):
    """Before (issue 23): a staff password was checked here — no second factor, a different
    answer for the right one, and the staff lockout spent by anyone."""
    from axes.models import AccessAttempt

    response = client.post(
        "/oauth/token/",
        {
            "grant_type": "password",
            "username": "clerk",
            "password": password,
            "client_id": app.client_id,
        },
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert not AccessAttempt.objects.exists()


def test_a_confidential_client_gets_its_secret_once_and_can_use_it(client, patient):
    """Before (issue 23) the command printed the stored hash, which no client can send."""
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "api_client_register", "--name", "Сервер клиники", "--redirect-uri", REDIRECT,
        "--confidential", stdout=out,
    )  # fmt: skip
    printed = dict(line.split("=", 1) for line in out.getvalue().split())
    from oauth2_provider.models import Application

    server_app = Application.objects.get(client_id=printed["client_id"])
    assert printed["client_secret"] != server_app.client_secret  # the hash stays inside
    client.force_login(patient)
    verifier, challenge = pkce_pair()
    code = code_from(_allow(client, _consent(client, server_app, challenge))["Location"])
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    basic = base64.b64encode(f"{printed['client_id']}:{printed['client_secret']}".encode())
    tokens = client.post("/oauth/token/", form, HTTP_AUTHORIZATION=f"Basic {basic.decode()}")
    assert tokens.status_code == 200, tokens.content
    assert Fhir(client, tokens.json()["access_token"]).get("Patient").status_code == 200
