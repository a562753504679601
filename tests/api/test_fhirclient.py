"""The SMART on FHIR client library `fhirclient`, with its defaults, against the live
server: discovery from the CapabilityStatement, the standalone patient launch (its default
scopes `launch/patient user/*.* patient/*.read openid profile`, PKCE S256), the token
exchange over HTTP, then the patient and their appointments read as R4 models (issue 23:
before, the library's default scopes ended in `invalid_scope`)."""

from urllib.parse import urlsplit

import pytest
from fhirclient import client as fhirclient
from fhirclient.models.appointment import Appointment as FhirAppointment

from portal.api.services import client_register
from portal.scheduling import services as booking
from tests.factories import DoctorFactory, SlotFactory

REDIRECT = "https://app.example/callback"

pytestmark = pytest.mark.django_db(transaction=True)


def test_fhirclient_with_its_defaults_completes_a_standalone_launch(live_server, client, patient):
    import uuid

    slot = SlotFactory(doctor=DoctorFactory(clinic=patient.patient.clinic))
    booked = booking.appointment_book(
        actor=patient, patient=patient.patient, slot_id=slot.pk, idempotency_key=uuid.uuid4()
    ).appointment
    app = client_register(name="SMART-приложение", redirect_uris=[REDIRECT])
    smart = fhirclient.FHIRClient(
        settings={"app_id": app.client_id, "api_base": f"{live_server.url}/fhir/",
                  "redirect_uri": REDIRECT},
    )  # fmt: skip

    authorize = urlsplit(smart.authorize_url)  # discovery over HTTP happens here
    host = urlsplit(live_server.url).netloc
    client.force_login(patient)
    page = client.get(f"{authorize.path}?{authorize.query}", HTTP_HOST=host)
    assert page.status_code == 200, page.content[:300]
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    answer = client.post(authorize.path, {**form, "allow": "on"}, HTTP_HOST=host)
    smart.handle_callback(answer["Location"])  # the token request over HTTP

    assert smart.ready and smart.patient_id == str(patient.patient.pk)
    assert smart.patient.name[0].family == patient.patient.last_name
    found = FhirAppointment.where({"patient": smart.patient_id}).perform_resources(smart.server)
    assert [a.id for a in found] == [str(booked.pk)]
    assert found[0].status == "booked"
