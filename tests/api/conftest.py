"""Fixtures of the FHIR API tests: a registered app, tokens, and FHIR calls."""

import base64
import datetime
import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from fhir.resources import construct_fhir_element
from oauth2_provider.models import AccessToken, Application

from portal.api.services import client_register
from tests.factories import DoctorFactory, SlotFactory, SpecialtyFactory

FHIR = "http://testserver/fhir"
REDIRECT = "https://app.example/callback"
ALL_SCOPES = (
    "patient/Patient.r patient/Appointment.rs patient/Appointment.cu patient/ServiceRequest.rs "
    "patient/Task.crs"
)


def fhir_valid(body: dict) -> dict:
    """Parse with fhir.resources (R4 4.0.1): raises if the server emitted invalid FHIR."""
    construct_fhir_element(body["resourceType"], body)
    if body["resourceType"] == "Bundle":
        for entry in body.get("entry", []):
            construct_fhir_element(entry["resource"]["resourceType"], entry["resource"])
    return body


@pytest.fixture(autouse=True)
def _slot_sequence_from_zero():
    """SlotFactory's start times grow with its sequence, and a slot opens 3 days ahead:
    after a few hundred slots (these tests make many) later tests' slots would not be
    open yet. Each test here starts and leaves the sequence at zero."""
    SlotFactory.reset_sequence()
    yield
    SlotFactory.reset_sequence()


@pytest.fixture
def app(db) -> Application:
    return client_register(name="Здоровье Приангарья", redirect_uris=[REDIRECT])


@pytest.fixture
def other_app(db) -> Application:
    return client_register(name="Другое приложение", redirect_uris=["https://other.example/cb"])


@pytest.fixture
def token_for(app):
    def issue(user, scope=ALL_SCOPES, *, application=None, resource=FHIR, seconds=600):
        return AccessToken.objects.create(
            user=user,
            application=application or app,
            token=secrets.token_urlsafe(30),
            scope=scope,
            expires=timezone.now() + datetime.timedelta(seconds=seconds),
            resource=[resource] if resource else [],
        ).token

    return issue


class Fhir:
    """A FHIR client over Django's test client; every answer is checked to be valid FHIR."""

    def __init__(self, client, token=None):
        self.client = client
        self.token = token

    def _headers(self, extra=None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
        return headers | (extra or {})

    def _check(self, response):
        assert response.status_code < 500, response.content[:500]
        if response["Content-Type"].startswith("application/fhir+json"):
            response.body = fhir_valid(json.loads(response.content))
        return response

    def get(self, path, params=None):
        return self._check(self.client.get(f"/fhir/{path}", params or {}, **self._headers()))

    def post(self, path, body, request_id=None):
        extra = {"HTTP_X_REQUEST_ID": request_id} if request_id else {}
        return self._check(
            self.client.post(
                f"/fhir/{path}",
                json.dumps(body),
                content_type="application/fhir+json",
                **self._headers(extra),
            )
        )

    def patch_cancel(self, appointment_id):
        body = [{"op": "replace", "path": "/status", "value": "cancelled"}]
        return self._check(
            self.client.patch(
                f"/fhir/Appointment/{appointment_id}",
                json.dumps(body),
                content_type="application/json-patch+json",
                **self._headers(),
            )
        )

    def put(self, path, body):
        return self._check(
            self.client.put(
                f"/fhir/{path}",
                json.dumps(body),
                content_type="application/fhir+json",
                **self._headers(),
            )
        )


@pytest.fixture
def fhir(client):
    return lambda token=None: Fhir(client, token)


def booking(slot_id, patient_id) -> dict:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{slot_id}"}],
        "participant": [{"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"}],
    }


def home_visit_task(patient_id, **changes) -> dict:
    """A home-visit request as a FHIR Task (docs/home-visits.md)."""
    from portal.api.codes import system as code_system

    system = code_system("home-visit-input")

    def given(code, **value):
        return {"type": {"coding": [{"system": system, "code": code}]}, **value}

    body = {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "for": {"reference": f"Patient/{patient_id}"},
        "input": [
            given("address", valueString="г. Иркутск, ул. Ленина, д. 5"),
            given("intercom", valueString="12#345"),
            given("phone", valueString="+7 914 123-45-67"),
            given("symptom", valueCoding={"code": "fever"}),
            given("temperature", valueQuantity={"value": 38.4}),
            given("consent", valueBoolean=True),
        ],
    }
    body.update(changes)
    return body


def outcome_text(response) -> str:
    return response.body["issue"][0]["details"]["text"]


@pytest.fixture
def open_slot(home_clinic):
    """A free, open slot of an ophthalmologist (direct booking, all ages) at the home clinic."""
    doctor = DoctorFactory(
        clinic=home_clinic,
        specialty=SpecialtyFactory(code="ophthalmologist", name="Офтальмолог"),
    )
    return lambda **kw: SlotFactory(doctor=doctor, **kw)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_params(app, challenge, scope=ALL_SCOPES, **extra) -> dict:
    return {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "st-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "aud": FHIR,
        **extra,
    }


def code_from(location: str) -> str:
    query = parse_qs(urlsplit(location).query)
    assert "code" in query, location
    return query["code"][0]


def exchange(client, app, code, verifier) -> dict:
    response = client.post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": app.client_id,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.content
    return response.json()
