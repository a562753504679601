"""SMART App Launch as standard apps ask for it: v1 and v2 scopes, context, discovery,
introspection and CORS (issue 23)."""

import pytest

from portal.api.smart_scopes import scopes_granted
from tests.api.conftest import REDIRECT, Fhir, authorize_params, code_from, pkce_pair

READ = ["patient/Patient.r", "patient/Appointment.rs"]
ALL = [*READ, "patient/Appointment.cu"]


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
        ("patient/Patient.cruds patient/Appointment.cruds", ALL),
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
