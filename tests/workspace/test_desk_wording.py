"""What a clerk reads: the read-back before a phone booking, staff wording in refusals, and
a throttled code told to wait."""

import uuid

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.patients.models import InsuredPerson
from portal.scheduling.models import Appointment
from portal.scheduling.services import appointment_book
from tests.factories import DoctorFactory, InsuranceCompanyFactory, SlotFactory, born
from tests.workspace.conftest import current_code


@pytest.fixture
def caller(db, home_clinic):
    return InsuredPerson.objects.create(
        policy_kind="E",
        policy_number="7700000000000037",
        last_name="Фёдорова",
        first_name="Мария",
        middle_name="Ильинична",
        birth_date=born(71, 40),
        sex="F",
        insurer=InsuranceCompanyFactory(),
        clinic=home_clinic,
    )


@pytest.mark.django_db
def test_phone_booking_reads_back_patient_doctor_and_time_before_it_books(
    clerk, as_staff, caller, home_clinic
):
    browser = as_staff(clerk)
    browser.get("/workspace/phone/", {"policy": caller.policy_number})
    slot = SlotFactory(doctor=DoctorFactory(clinic=home_clinic, last_name="Семёнов"))
    page = browser.get(f"/workspace/phone/{caller.pk}/", {"slot": slot.pk})
    text = page.content.decode()
    assert page.status_code == 200
    assert "Проверьте запись" in text and "Фёдорова Мария Ильинична" in text
    assert "Семёнов" in text and "Записать" in text
    assert not Appointment.objects.filter(slot=slot).exists()


@pytest.mark.django_db
def test_a_refusal_sends_the_clerk_to_the_card_not_to_my_appointments(
    clerk, as_staff, patient, home_clinic
):
    doctor = DoctorFactory(clinic=home_clinic)
    appointment_book(
        actor=patient,
        patient=patient.patient,
        slot_id=SlotFactory(doctor=doctor).pk,
        idempotency_key=uuid.uuid4(),
    )
    second = SlotFactory(doctor=doctor)
    response = as_staff(clerk).post(
        f"/workspace/patients/{patient.patient.pk}/book/",
        {"slot": second.pk, "idempotency_key": str(uuid.uuid4())},
        follow=True,
    )
    text = response.content.decode()
    assert "карточка пациента" in text and "«Мои записи»" not in text


@pytest.mark.django_db
def test_a_throttled_code_says_to_wait_not_that_it_was_wrong(clerk):
    device = TOTPDevice.objects.create(user=clerk, name="workspace", confirmed=True)
    browser = Client()
    browser.post("/workspace/login/", {"username": "clerk", "password": "clerk-password-1"})
    wrong = f"{(int(current_code(device)) + 1) % 1000000:06d}"
    assert (
        "Код не подошёл" in browser.post("/workspace/login/code/", {"code": wrong}).content.decode()
    )
    response = browser.post("/workspace/login/code/", {"code": current_code(device)})
    text = response.content.decode()
    assert response.status_code == 400
    assert "Подождите" in text and "Код не подошёл" not in text


@pytest.mark.django_db
def test_the_workspace_header_has_no_patient_links(clerk, as_staff):
    text = as_staff(clerk).get("/workspace/").content.decode()
    assert "Мои записи" not in text and "Личный кабинет" not in text
    assert text.count("Выйти") == 1 and "Выйти из рабочего места" in text
