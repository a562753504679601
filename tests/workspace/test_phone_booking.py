"""Booking by phone: the clerk finds the caller in the registry, books under the portal rules."""

import uuid

import pytest
from django.test import Client

from portal.audit.models import AuditAction, AuditEvent
from portal.patients.models import InsuredPerson, Patient
from portal.scheduling.models import Appointment
from tests.factories import (
    AppointmentFactory,
    DoctorFactory,
    InsuranceCompanyFactory,
    SlotFactory,
    born,
)


@pytest.fixture
def caller(db, home_clinic):
    return InsuredPerson.objects.create(
        policy_kind="E",
        policy_number="7700000000000011",
        last_name="Фёдорова",
        first_name="Мария",
        middle_name="Ильинична",
        birth_date=born(71, 40),
        sex="F",
        insurer=InsuranceCompanyFactory(),
        clinic=home_clinic,
    )


def _found(browser, person: InsuredPerson) -> None:
    """Search the registry as the clerk does before opening a caller's page."""
    assert browser.get("/workspace/phone/", {"policy": person.policy_number}).status_code == 200


@pytest.fixture
def free_slot(home_clinic):
    return SlotFactory(doctor=DoctorFactory(clinic=home_clinic))


@pytest.mark.django_db
def test_the_clerk_finds_the_caller_by_policy_or_by_name_and_birth_date(clerk, as_staff, caller):
    browser = as_staff(clerk)
    by_policy = browser.get("/workspace/phone/", {"policy": "7700 0000 0000 0011"})
    assert "Фёдорова Мария" in by_policy.content.decode()
    by_name = browser.get(
        "/workspace/phone/",
        {"last_name": "федорова", "first_name": "МАРИЯ", "birth_date": caller.birth_date},
    )
    assert "Фёдорова Мария" in by_name.content.decode()
    vague = browser.get("/workspace/phone/", {"last_name": "Фёдорова"})
    assert vague.status_code == 400
    assert "по неполным данным реестр не ищет" in vague.content.decode()


@pytest.mark.django_db
def test_the_clerk_books_and_the_journal_says_a_clinic_employee_did(
    clerk, as_staff, caller, free_slot
):
    browser = as_staff(clerk)
    _found(browser, caller)
    page = browser.get(
        f"/workspace/phone/{caller.pk}/",
        {"clinic": free_slot.doctor.clinic_id, "doctor": free_slot.doctor_id},
    )
    assert page.status_code == 200
    response = browser.post(
        f"/workspace/phone/{caller.pk}/book/",
        {"slot": free_slot.pk, "idempotency_key": str(uuid.uuid4())},
    )
    assert response.status_code == 200
    appointment = Appointment.objects.get(slot=free_slot, status="booked")
    assert appointment.ticket_number in response.content.decode()
    assert appointment.booked_by == clerk
    patient = Patient.objects.get(policy_number=caller.policy_number)
    assert appointment.patient == patient and patient.clinic == caller.clinic
    event = AuditEvent.objects.get(action=AuditAction.APPOINTMENT_BOOKED, patient=patient)
    assert event.user == clerk


@pytest.mark.django_db
def test_a_caller_with_a_portal_account_is_booked_into_their_own_record(
    clerk, as_staff, patient, free_slot
):
    own = patient.patient
    person = InsuredPerson.objects.create(
        policy_kind="E",
        policy_number=own.policy_number,
        policy_series=own.policy_series,
        last_name=own.last_name,
        first_name=own.first_name,
        birth_date=own.birth_date,
        sex=own.sex,
        insurer=InsuranceCompanyFactory(),
        clinic=own.clinic,
    )
    browser = as_staff(clerk)
    _found(browser, person)
    browser.post(
        f"/workspace/phone/{person.pk}/book/",
        {"slot": free_slot.pk, "idempotency_key": str(uuid.uuid4())},
    )
    appointment = Appointment.objects.get(slot=free_slot)
    assert appointment.patient == own
    # The patient sees it in «Мои записи», and in the journal who booked it.
    browser = Client()
    browser.force_login(patient)
    assert appointment.ticket_number in browser.get("/appointments/").content.decode()
    journal = browser.get(f"/cabinet/journal/{own.pk}/")
    assert "Сотрудник медицинской организации" in journal.content.decode()


@pytest.mark.django_db
def test_the_portals_rules_still_refuse_with_what_to_do(clerk, as_staff, caller, free_slot):
    browser = as_staff(clerk)
    _found(browser, caller)
    browser.post(
        f"/workspace/phone/{caller.pk}/book/",
        {"slot": free_slot.pk, "idempotency_key": str(uuid.uuid4())},
    )
    second = SlotFactory(doctor=free_slot.doctor)
    response = browser.post(
        f"/workspace/phone/{caller.pk}/book/",
        {"slot": second.pk, "idempotency_key": str(uuid.uuid4())},
        follow=True,
    )
    assert "уже есть предстоящая запись" in response.content.decode()
    assert Appointment.objects.filter(patient__policy_number=caller.policy_number).count() == 1


@pytest.mark.django_db
def test_a_refused_booking_of_a_new_caller_leaves_no_patient_record_behind(
    clerk, as_staff, caller, free_slot
):
    """Before (issue 24, point 9) each refused attempt created the caller's record anyway:
    a clerk could fill the portal with records of people who never booked."""
    other = AppointmentFactory(slot__doctor=free_slot.doctor).slot
    browser = as_staff(clerk)
    _found(browser, caller)

    response = browser.post(
        f"/workspace/phone/{caller.pk}/book/",
        {"slot": other.pk, "idempotency_key": str(uuid.uuid4())},
        follow=True,
    )

    assert "занято" in response.content.decode()
    assert not Patient.objects.filter(policy_number=caller.policy_number).exists()


@pytest.mark.django_db
def test_a_refused_booking_keeps_a_record_that_existed_before(clerk, as_staff, caller, free_slot):
    browser = as_staff(clerk)
    _found(browser, caller)
    browser.post(
        f"/workspace/phone/{caller.pk}/book/",
        {"slot": free_slot.pk, "idempotency_key": str(uuid.uuid4())},
    )
    refused = browser.post(
        f"/workspace/phone/{caller.pk}/book/",
        {"slot": SlotFactory(doctor=free_slot.doctor).pk, "idempotency_key": str(uuid.uuid4())},
        follow=True,
    )
    assert "уже есть предстоящая запись" in refused.content.decode()
    assert Patient.objects.filter(policy_number=caller.policy_number).count() == 1


@pytest.mark.django_db
def test_another_clinics_clerk_cannot_book_this_clinics_slot(
    other_clerk, as_staff, caller, free_slot
):
    browser = as_staff(other_clerk)
    _found(browser, caller)
    response = browser.post(
        f"/workspace/phone/{caller.pk}/book/",
        {"slot": free_slot.pk, "idempotency_key": str(uuid.uuid4())},
    )
    assert response.status_code == 404
    assert not Appointment.objects.exists()


# --- the registry is not a directory to walk (issue 24, point 7) ----------------------


@pytest.mark.django_db
def test_walking_registry_ids_shows_nobody_the_clerk_did_not_find(clerk, as_staff, caller):
    browser = as_staff(clerk)
    assert browser.get(f"/workspace/phone/{caller.pk}/").status_code == 404
    assert browser.get(f"/workspace/phone/{caller.pk + 1}/").status_code == 404
    _found(browser, caller)
    assert browser.get(f"/workspace/phone/{caller.pk}/").status_code == 200


@pytest.mark.django_db
def test_a_person_found_by_one_clerk_stays_closed_to_another(clerk, head, as_staff, caller):
    _found(as_staff(clerk), caller)
    assert as_staff(head).get(f"/workspace/phone/{caller.pk}/").status_code == 404


@pytest.mark.django_db
def test_every_search_is_in_the_journal_without_names(clerk, as_staff, caller):
    browser = as_staff(clerk)
    browser.get("/workspace/phone/", {"policy": caller.policy_number})
    browser.get(
        "/workspace/phone/",
        {"last_name": "Фёдорова", "first_name": "Мария", "birth_date": caller.birth_date},
    )
    events = AuditEvent.objects.filter(action=AuditAction.REGISTRY_SEARCHED, user=clerk)
    assert [(e.details["by"], e.details["found"]) for e in events.order_by("pk")] == [
        ("policy", [caller.pk]),
        ("name", [caller.pk]),
    ]
    assert "Фёдорова" not in str([e.details for e in events])


@pytest.mark.django_db
def test_searches_are_rate_limited_per_clerk(clerk, as_staff, caller, settings):
    settings.RATE_REGISTRY_SEARCH_USER = "3/h"
    browser = as_staff(clerk)
    statuses = [
        browser.get("/workspace/phone/", {"policy": caller.policy_number}).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    # Used up, the search page itself says when to come back.
    refused = browser.get("/workspace/phone/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
