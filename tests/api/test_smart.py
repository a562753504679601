"""SMART App Launch as standard apps ask for it: v1 and v2 scopes, context, discovery,
introspection and CORS (issue 23)."""

import pytest

from portal.api.smart_scopes import scopes_granted
from tests.api.conftest import REDIRECT, Fhir, authorize_params, code_from, pkce_pair

READ = ["patient/Patient.r", "patient/Appointment.rs", "patient/ServiceRequest.rs"]
ALL = ["patient/Patient.r", "patient/Appointment.rs", "patient/Appointment.cu"]
ALL += ["patient/ServiceRequest.rs", "patient/Task.crs"]  # home visits: docs/home-visits.md


@pytest.mark.parametrize(
    ("asked", "granted"),
    [
        ("patient/*.read", READ),
        ("patient/Appointment.read", ["patient/Appointment.rs"]),
        ("patient/Appointment.write", ["patient/Appointment.cu"]),
        ("user/*.* patient/*.read openid profile", ALL),  # the fhirclient library's default
        ("patient/*.rs launch/patient offline_access", [*READ, "launch/patient", "offline_access"]),
        ("patient/Appointment.r", []),  # read without search: we cannot grant less than rs
        ("patient/Appointment.rs?status=booked", []),  # filters are not granted
        ("openid fhirUser", []),
        ("patient/Patient.cruds patient/Appointment.cruds", ALL[:3]),
        ("system/*.read", []),
    ],
)
def test_a_request_is_granted_only_what_it_covers(asked, granted):
    assert scopes_granted(asked.split()) == granted


def test_our_own_scopes_are_granted_as_they_are():
    assert scopes_granted([*ALL, "launch/patient"]) == [*ALL, "launch/patient"]


@pytest.mark.django_db
def test_a_standalone_patient_launch_gets_the_patient_and_the_granted_scope(client, guardian, app):
    client.force_login(guardian)
    verifier, challenge = pkce_pair()
    scope = "launch/patient openid fhirUser offline_access patient/*.read"
    page = client.get("/oauth/authorize/", authorize_params(app, challenge, scope=scope))
    assert page.status_code == 200, page.content[:300]
    assert "знать, чья карта открыта" in page.content.decode()
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    code = code_from(client.post("/oauth/authorize/", {**form, "allow": "on"})["Location"])

    answer = client.post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": app.client_id,
            "code_verifier": verifier,
        },
    ).json()

    assert answer["patient"] == str(guardian.patient.pk)
    assert answer["scope"].split() == [*READ, "launch/patient", "offline_access"]
    fhir = Fhir(client, answer["access_token"])
    assert fhir.get(f"Patient/{answer['patient']}").status_code == 200
    assert fhir.get("Appointment").status_code == 200


@pytest.mark.django_db
def test_both_discovery_documents_name_the_same_issuer_and_endpoints(client):
    smart = client.get("/fhir/.well-known/smart-configuration").json()
    rfc8414 = client.get("/.well-known/oauth-authorization-server")
    assert rfc8414.status_code == 200 and rfc8414["Access-Control-Allow-Origin"] == "*"
    metadata = rfc8414.json()
    assert metadata["issuer"] == smart["issuer"] == "http://testserver"
    for key in ("authorization_endpoint", "token_endpoint", "introspection_endpoint"):
        assert smart[key] == metadata[key]
    assert metadata["token_endpoint"] == "http://testserver/oauth/token/"
    assert {"launch-standalone", "context-standalone-patient"} <= set(smart["capabilities"])
    assert "none" in smart["token_endpoint_auth_methods_supported"]
    assert {"offline_access", "launch/patient"} <= set(metadata["scopes_supported"])
    assert metadata["grant_types_supported"] == ["authorization_code", "refresh_token"]


def _server_app():
    from portal.api.services import client_register_with_secret

    return client_register_with_secret(
        name="Сервер клиники", redirect_uris=["https://clinic.example/cb"], confidential=True
    )


def _basic(client_id, secret):
    import base64

    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.mark.django_db
def test_introspection_tells_a_client_about_its_own_tokens_only(client, patient, token_for):
    server = _server_app()
    own = token_for(patient, "patient/Patient.r launch/patient", application=server.application)
    others = token_for(patient)  # another app's token
    auth = _basic(server.application.client_id, server.secret)

    mine = client.post("/oauth/introspect/", {"token": own}, HTTP_AUTHORIZATION=auth).json()
    foreign = client.post("/oauth/introspect/", {"token": others}, HTTP_AUTHORIZATION=auth)
    forged = client.post(
        "/oauth/introspect/",
        {"token": own},
        HTTP_AUTHORIZATION=_basic(server.application.client_id, "wrong"),
    )

    assert mine["active"] is True and mine["patient"] == str(patient.patient.pk)
    assert mine["scope"] == "patient/Patient.r launch/patient" and "username" not in mine
    assert foreign.json() == {"active": False}
    assert forged.status_code == 401


@pytest.mark.django_db
def test_cors_opens_the_api_to_registered_origins_only(client, app, patient, token_for):
    token = token_for(patient)
    preflight = client.options(
        "/fhir/Appointment",
        HTTP_ORIGIN="https://app.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "https://app.example"
    assert "authorization" in preflight["Access-Control-Allow-Headers"]
    read = client.get(
        "/fhir/Patient", HTTP_ORIGIN="https://app.example", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert read["Access-Control-Allow-Origin"] == "https://app.example"
    stranger = client.get(
        "/fhir/Patient", HTTP_ORIGIN="https://evil.example", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert "Access-Control-Allow-Origin" not in stranger
    site = client.get("/", HTTP_ORIGIN="https://app.example")
    assert "Access-Control-Allow-Origin" not in site  # the site itself is never opened
