"""Every resource carries a narrative a person can read (FHIR R4 §2.4; issue 23)."""

import pytest

from tests.api.conftest import fhir_valid
from tests.factories import AppointmentFactory, DoctorFactory

pytestmark = pytest.mark.django_db


def test_each_search_entry_and_a_read_carry_escaped_xhtml(client, patient, token_for):
    DoctorFactory(last_name="<script>Иванов")
    bundle = fhir_valid(client.get("/fhir/Practitioner", {"_count": "50"}).json())
    divs = [entry["resource"]["text"]["div"] for entry in bundle["entry"]]
    assert divs and all(d.startswith('<div xmlns="http://www.w3.org/1999/xhtml">') for d in divs)
    assert any("&lt;script&gt;Иванов" in d for d in divs)
    assert not any("<script>" in d for d in divs)

    appointment = AppointmentFactory(patient=patient.patient, booked_by=patient)
    read = client.get(
        f"/fhir/Appointment/{appointment.pk}", HTTP_AUTHORIZATION=f"Bearer {token_for(patient)}"
    ).json()
    fhir_valid(read)
    assert read["text"]["status"] == "generated"
    assert appointment.specialty.name in read["text"]["div"]
