"""The mobile app's whole journey (docs/api.md), through the real ESIA emulator.

The operator registers the app; Анна logs in through ESIA inside the app's browser
tab and consents; the app finds a pediatrician's free slot for her daughter Мария,
books it, Анна sees it in «Мои записи» on the site, and the app cancels it.
"""

import datetime
import io
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone
from oauth2_provider.models import Application

from portal.directory.models import Doctor
from portal.patients.models import Patient
from tests.api.conftest import FHIR, REDIRECT, Fhir, code_from, exchange, pkce_pair
from tests.esia_fixtures import emulator_choose
from tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

ANNA = "1000320001"


def _register_app() -> str:
    out = io.StringIO()
    call_command(
        "api_client_register",
        "--name=Здоровье Приангарья",
        f"--redirect-uri={REDIRECT}",
        stdout=out,
    )
    return out.getvalue().strip().removeprefix("client_id=")


def _follow_to_portal(client, location):
    parts = urlsplit(location)
    return client.get(parts.path, parse_qs(parts.query))


def _log_in_and_consent(client, client_id: str, challenge: str) -> str:
    """What happens in the app's browser tab; returns the authorization code."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "patient/Patient.r patient/Appointment.rs patient/Appointment.cu",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "aud": FHIR,
    }
    start = client.get("/oauth/authorize/?" + urlencode(query))
    assert start.status_code == 302  # not logged in: to the ESIA login, then back
    to_esia = client.get(start["Location"])
    back = _follow_to_portal(client, emulator_choose(to_esia["Location"], oid=ANNA))
    assert back.status_code == 302 and back["Location"].startswith("/oauth/authorize/")
    consent = client.get(back["Location"])
    assert "Приложение «Здоровье Приангарья» просит доступ" in consent.content.decode()
    form = {k: v for k, v in consent.context["form"].initial.items() if v is not None}
    answer = client.post("/oauth/authorize/", {**form, "allow": "on"})
    assert parse_qs(urlsplit(answer["Location"]).query)["state"] == ["xyz"]
    return code_from(answer["Location"])


def _add_daughter_on_the_site(client) -> None:
    anna = Patient.objects.get(esia_oid=ANNA)
    maria = next(k for k in anna.esia_kids if k["first_name"] == "Мария")
    client.post("/cabinet/relatives/add-from-esia/", {"kid": maria["id"]})


def _open_pediatrician_slots(clinic_id: int) -> Doctor:
    doctor = Doctor.objects.filter(clinic_id=clinic_id, specialty__code="pediatrician").first()
    assert doctor is not None
    day = timezone.localdate() + datetime.timedelta(days=2)
    for hour in (9, 10):
        starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
        SlotFactory(
            doctor=doctor, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=20)
        )
    return doctor


def test_a_mobile_app_books_and_cancels_a_pediatrician_for_a_child(client, esia_setup, demo_region):
    client_id = _register_app()
    verifier, challenge = pkce_pair()
    code = _log_in_and_consent(client, client_id, challenge)

    tokens = exchange(client, Application.objects.get(client_id=client_id), code, verifier)
    api = Fhir(client, tokens["access_token"])

    _add_daughter_on_the_site(client)
    people = api.get("Patient").body["entry"]
    maria = next(e["resource"] for e in people if e["resource"]["name"][0]["given"][0] == "Мария")
    clinic_ref = maria["generalPractitioner"][0]["reference"]
    doctor = _open_pediatrician_slots(int(clinic_ref.split("/")[1]))

    found = api.get(
        "Slot", {"specialty": "pediatrician", "organization": clinic_ref, "status": "free"}
    )
    slot = found.body["entry"][0]["resource"]
    assert slot["schedule"]["reference"] == f"Schedule/{doctor.pk}"

    booked = api.post(
        "Appointment",
        {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{slot['id']}"}],
            "participant": [
                {"actor": {"reference": f"Patient/{maria['id']}"}, "status": "accepted"}
            ],
        },
        request_id="2f1d0c7e-booking-1",
    )
    assert booked.status_code == 201

    my_visits = client.get("/appointments/").content.decode()
    assert doctor.full_name in my_visits and "Иванова М.И." in my_visits

    cancelled = api.patch_cancel(booked.body["id"])
    assert cancelled.body["status"] == "cancelled"
    after = client.get("/appointments/").content.decode()
    assert "отменена пациентом" in after.lower()
    assert api.get(f"Slot/{slot['id']}").body["status"] == "free"
