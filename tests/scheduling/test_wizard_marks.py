"""Issue 16, items 5 and 11: the wizard says what the patient would only learn at the end."""

import uuid

import pytest
from django.urls import reverse

from portal.scheduling import services
from tests.factories import ClinicFactory, DoctorFactory, SlotFactory
from tests.scheduling.conftest import specialty

pytestmark = pytest.mark.django_db


def test_a_specialty_already_booked_links_to_that_appointment(client, patient, doctor, slot):
    booked = services.appointment_book(
        actor=patient, patient=patient.patient, slot_id=slot.pk, idempotency_key=uuid.uuid4()
    ).appointment
    client.force_login(patient)
    page = client.get(reverse("scheduling:booking_clinic", args=[doctor.clinic_id]))
    text = page.content.decode()
    assert "Уже есть запись на" in text
    assert reverse("scheduling:appointment_ticket", args=[booked.pk]) in text
    assert reverse("scheduling:appointment_reschedule", args=[booked.pk]) in text
    wizard_next = reverse(
        "scheduling:booking_doctors", args=[doctor.clinic_id, doctor.specialty_id]
    )
    assert wizard_next not in text


def test_the_own_clinic_and_the_district_doctor_are_marked(client, patient, home_clinic):
    patient.patient.area = "7"
    patient.patient.save()
    therapist = specialty("therapist", "direct", "all")
    mine = DoctorFactory(clinic=home_clinic, specialty=therapist, last_name="Участкова", area="7")
    DoctorFactory(clinic=home_clinic, specialty=therapist, last_name="Соседова", area="8")
    other = ClinicFactory(district=home_clinic.district, short_name="Чужая поликлиника")
    client.force_login(patient)

    district = client.get(reverse("scheduling:booking_district", args=[home_clinic.district_id]))
    text = district.content.decode()
    assert text.count("Ваша поликлиника прикрепления") == 1
    assert text.index("Ваша поликлиника прикрепления") < text.index(home_clinic.short_name)
    assert other.short_name in text

    doctors = client.get(
        reverse("scheduling:booking_doctors", args=[home_clinic.pk, therapist.pk])
    ).content.decode()
    assert doctors.count("ваш участковый врач") == 1
    assert doctors.index(mine.last_name) < doctors.index("ваш участковый врач")
    assert doctors.index("ваш участковый врач") < doctors.index("Соседова")


def test_the_attached_only_refusal_names_the_patients_clinic(client, patient, home_clinic):
    other = ClinicFactory(short_name="Поликлиника № 9")
    only_own = specialty("therapist", "attachment", "all")
    slot = SlotFactory(doctor=DoctorFactory(clinic=other, specialty=only_own))
    client.force_login(patient)
    page = client.get(reverse("scheduling:booking_clinic", args=[other.pk])).content.decode()
    assert f"Ваша поликлиника — {home_clinic.short_name}" in page
    confirm = client.get(reverse("scheduling:booking_confirm", args=[slot.pk])).content.decode()
    assert f"Ваша поликлиника — {home_clinic.short_name}" in confirm
