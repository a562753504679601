"""A search parameter the server does not understand is refused, not silently ignored
(issue 23): `Practitioner?name:exact=…` and `Appointment?actor=Patient/<child>` used to
answer as if they had applied — the latter with the mother's appointments too."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("Practitioner", {"name:exact": "Иванов"}),
        ("Organization", {"name:contains": "детская"}),
        ("Slot", {"_sort": "start"}),
    ],
)
def test_an_unknown_parameter_or_modifier_is_a_400_naming_it(client, path, params):
    response = client.get(f"/fhir/{path}", params)
    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    name = next(iter(params))
    assert f"«{name}»" in outcome["issue"][0]["details"]["text"]


def test_the_mothers_appointments_are_not_found_by_an_unknown_actor_parameter(
    client, guardian, child, token_for
):
    AppointmentFactory(patient=guardian.patient, booked_by=guardian)
    token = token_for(guardian)
    response = client.get(
        "/fhir/Appointment", {"actor": f"Patient/{child.pk}"}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 400
    assert "«actor»" in response.json()["issue"][0]["details"]["text"]


def test_lenient_handling_drops_the_unknown_parameter_from_the_self_link(client):
    response = client.get(
        "/fhir/Practitioner",
        {"name:exact": "Иванов", "_count": "5"},
        HTTP_PREFER="handling=lenient",
    )
    assert response.status_code == 200
    bundle = response.json()
    self_link = next(link["url"] for link in bundle["link"] if link["relation"] == "self")
    assert "name:exact" not in parse_qs(urlsplit(self_link).query)
    assert parse_qs(urlsplit(self_link).query)["_count"] == ["5"]


def test_a_supported_search_still_answers(client):
    assert client.get("/fhir/Practitioner", {"name": "Ив", "_format": "json"}).status_code == 200


@pytest.mark.parametrize("status", ["proposed", "pending"])
def test_a_tentative_appointment_is_not_booked(client, patient, token_for, open_slot, status):
    """`proposed` and `pending` mean not yet booked; they used to book (issue 23)."""
    from portal.scheduling.models import Appointment
    from tests.api.conftest import Fhir, booking

    slot = open_slot()
    body = booking(slot.pk, patient.patient.pk) | {"status": status}
    response = Fhir(client, token_for(patient)).post("Appointment", body)
    assert response.status_code == 422
    assert "предварительных" in response.body["issue"][0]["details"]["text"]
    assert not Appointment.objects.filter(slot=slot).exists()
