"""The patient card: a caller asks the registry to cancel, move or make an appointment."""

import datetime
import uuid

import pytest
from django.utils import timezone

from portal.audit.models import AuditAction, AuditEvent
from portal.notifications.models import Message
from portal.scheduling.models import Appointment, Slot
from portal.scheduling.services import appointment_book
from tests.factories import DoctorFactory, SlotFactory


def _book(user, patient, slot) -> Appointment:
    return appointment_book(
        actor=user, patient=patient, slot_id=slot.pk, idempotency_key=uuid.uuid4()
    ).appointment


@pytest.fixture
def doctor(home_clinic):
    return DoctorFactory(clinic=home_clinic)


@pytest.fixture
def booked(patient, doctor) -> Appointment:
    """Соколов's appointment at the clerk's clinic, booked by himself online."""
    patient.patient.email = "sokolov@example.ru"
    patient.patient.save(update_fields=["email"])
    return _book(patient, patient.patient, SlotFactory(doctor=doctor))


@pytest.mark.django_db
def test_the_clerk_finds_the_caller_by_policy_name_and_birth_date_or_ticket(
    clerk, as_staff, patient, booked
):
    browser = as_staff(clerk)
    record = patient.patient
    spaced = " ".join([record.policy_number[:8], record.policy_number[8:]])
    for query in (
        {"policy": spaced},
        {"last_name": "СОКОЛОВ", "birth_date": record.birth_date.isoformat()},
        {"ticket": booked.ticket_number},
    ):
        page = browser.get("/workspace/patients/", query)
        assert page.status_code == 200
        assert f"/workspace/patients/{record.pk}/" in page.content.decode(), query
    vague = browser.get("/workspace/patients/", {"last_name": "Соколов"})
    assert vague.status_code == 400
    assert "по неполным данным поиск не ведётся" in vague.content.decode()


@pytest.mark.django_db
def test_every_card_search_is_journalled_without_names(clerk, as_staff, patient, booked):
    browser = as_staff(clerk)
    browser.get("/workspace/patients/", {"policy": patient.patient.policy_number})
    event = AuditEvent.objects.get(action=AuditAction.REGISTRY_SEARCHED, user=clerk)
    assert event.details["by"] == "card_policy"
    assert event.details["patients"] == [patient.patient.pk]
    assert "Соколов" not in str(event.details)


@pytest.mark.django_db
def test_card_searches_share_the_registry_search_limit(clerk, as_staff, patient, settings):
    settings.RATE_REGISTRY_SEARCH_USER = "2/h"
    browser = as_staff(clerk)
    query = {"policy": patient.patient.policy_number}
    assert browser.get("/workspace/patients/", query).status_code == 200
    assert browser.get("/workspace/phone/", query).status_code == 200
    assert browser.get("/workspace/patients/", query).status_code == 429


@pytest.mark.django_db
def test_a_clerk_of_another_clinic_neither_finds_nor_opens_the_card(
    other_clerk, as_staff, patient, booked
):
    browser = as_staff(other_clerk)
    record = patient.patient
    for query in ({"policy": record.policy_number}, {"ticket": booked.ticket_number}):
        page = browser.get("/workspace/patients/", query)
        assert f"/workspace/patients/{record.pk}/" not in page.content.decode()
    assert browser.get(f"/workspace/patients/{record.pk}/").status_code == 404
    assert browser.post(f"/workspace/appointments/{booked.pk}/cancel/").status_code == 404
    assert browser.get(f"/workspace/appointments/{booked.pk}/move/").status_code == 404
    booked.refresh_from_db()
    assert booked.status == "booked"


@pytest.mark.django_db
def test_the_card_shows_upcoming_and_past_appointments(clerk, as_staff, patient, booked):
    page = as_staff(clerk).get(f"/workspace/patients/{patient.patient.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Соколов Николай Андреевич" in text
    assert booked.ticket_number in text
    assert "Отменить по просьбе пациента" in text and "Перенести" in text


@pytest.mark.django_db
def test_cancelling_for_the_patient_reads_back_first_says_why_and_tells_them(
    clerk, as_staff, patient, booked
):
    question = as_staff(clerk).get(f"/workspace/appointments/{booked.pk}/cancel/")
    assert "Отменить запись?" in question.content.decode()
    booked.refresh_from_db()
    assert booked.status == "booked"
    response = as_staff(clerk).post(f"/workspace/appointments/{booked.pk}/cancel/")
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == "cancelled_patient"
    assert booked.cancel_reason == "по просьбе пациента"
    assert Slot.objects.get(pk=booked.slot_id).status == "free"
    told = Message.objects.filter(appointment=booked, kind="cancelled")
    assert [message.address for message in told] == ["sokolov@example.ru"]
    event = AuditEvent.objects.get(action=AuditAction.APPOINTMENT_CANCELLED, user=clerk)
    assert event.patient_id == patient.patient.pk


@pytest.mark.django_db
def test_moving_books_the_new_time_and_only_then_frees_the_old(
    clerk, as_staff, patient, booked, doctor
):
    browser = as_staff(clerk)
    later = SlotFactory(doctor=doctor, starts_at=booked.starts_at + datetime.timedelta(days=1))
    day = timezone.localtime(later.starts_at).date().isoformat()
    page = browser.get(f"/workspace/appointments/{booked.pk}/move/", {"date": day})
    assert page.status_code == 200
    assert timezone.localtime(later.starts_at).strftime("%H:%M") in page.content.decode()
    response = browser.post(
        f"/workspace/appointments/{booked.pk}/move/",
        {"slot": later.pk, "idempotency_key": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    booked.refresh_from_db()
    moved = Appointment.objects.get(slot=later, status="booked")
    assert booked.status == "cancelled_patient" and moved.patient_id == booked.patient_id


@pytest.mark.django_db
def test_a_refused_move_keeps_the_original(clerk, as_staff, patient, booked, doctor):
    taken = SlotFactory(doctor=doctor, status="booked")
    response = as_staff(clerk).post(
        f"/workspace/appointments/{booked.pk}/move/",
        {"slot": taken.pk, "idempotency_key": str(uuid.uuid4())},
    )
    assert response.status_code == 409
    booked.refresh_from_db()
    assert booked.status == "booked"


@pytest.mark.django_db
def test_booking_from_the_card_reads_back_before_it_books(clerk, as_staff, patient, doctor):
    browser = as_staff(clerk)
    slot = SlotFactory(doctor=doctor)
    record = patient.patient
    confirm = browser.get(f"/workspace/patients/{record.pk}/book/", {"slot": slot.pk})
    text = confirm.content.decode()
    assert "Проверьте запись" in text and record.full_name in text and doctor.full_name in text
    assert not Appointment.objects.filter(slot=slot).exists()
    response = browser.post(
        f"/workspace/patients/{record.pk}/book/",
        {"slot": slot.pk, "idempotency_key": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    assert Appointment.objects.get(slot=slot, status="booked").patient == record
