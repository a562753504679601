"""«Перенести»: one step moves an appointment, or leaves it exactly as it was."""

import uuid

import pytest
from django.urls import reverse

from portal.audit.models import AuditAction, AuditEvent
from portal.scheduling import services
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Appointment, Slot
from tests.factories import DoctorFactory, SlotFactory

pytestmark = pytest.mark.django_db


def book(user, patient, slot):
    return services.appointment_book(
        actor=user, patient=patient, slot_id=slot.pk, idempotency_key=uuid.uuid4()
    ).appointment


def move(user, appointment, slot, key=None):
    return services.appointment_reschedule(
        actor=user,
        appointment=appointment,
        new_slot_id=slot.pk,
        idempotency_key=key or uuid.uuid4(),
        ip="10.0.0.1",
        device="Chrome, Windows",
    )


def test_a_move_books_the_new_time_and_frees_the_old_in_one_step(patient, make_slot):
    old_slot, new_slot = make_slot(), make_slot()
    original = book(patient, patient.patient, old_slot)

    result = move(patient, original, new_slot)

    assert result.created
    original.refresh_from_db()
    old_slot.refresh_from_db()
    new_slot.refresh_from_db()
    assert original.status == Appointment.Status.CANCELLED_PATIENT
    assert old_slot.status == Slot.Status.FREE
    assert new_slot.status == Slot.Status.BOOKED
    assert result.appointment.slot_id == new_slot.pk
    assert result.appointment.status == Appointment.Status.BOOKED
    # The one-per-specialty rule did not count the appointment being moved.
    assert Appointment.objects.filter(patient=patient.patient, status="booked").count() == 1


def test_a_colleague_of_the_same_specialty_at_the_clinic_is_a_valid_target(patient, doctor):
    colleague = DoctorFactory(clinic=doctor.clinic, specialty=doctor.specialty, last_name="Ким")
    original = book(patient, patient.patient, SlotFactory(doctor=doctor))
    result = move(patient, original, SlotFactory(doctor=colleague))
    assert result.appointment.slot.doctor == colleague


def test_the_audit_names_both_halves_of_the_move(patient, make_slot):
    original = book(patient, patient.patient, make_slot())
    moved = move(patient, original, make_slot()).appointment

    cancelled = AuditEvent.objects.get(
        action=AuditAction.APPOINTMENT_CANCELLED, details__appointment=original.pk
    )
    booked = AuditEvent.objects.get(
        action=AuditAction.APPOINTMENT_BOOKED, details__appointment=moved.pk
    )
    assert cancelled.details["rescheduled_to"] == moved.pk
    assert booked.details["rescheduled_from"] == original.pk
    assert booked.details["device"] == "Chrome, Windows"
    assert booked.ip == "10.0.0.1"


def test_a_double_click_replays_the_move(patient, make_slot):
    original = book(patient, patient.patient, make_slot())
    target = make_slot()
    key = uuid.uuid4()
    first = move(patient, original, target, key)
    second = move(patient, original, target, key)
    assert not second.created
    assert second.appointment.pk == first.appointment.pk


def _assert_kept(original, old_slot):
    original.refresh_from_db()
    old_slot.refresh_from_db()
    assert original.status == Appointment.Status.BOOKED
    assert old_slot.status == Slot.Status.BOOKED


def test_a_taken_target_keeps_the_original(patient, stranger, make_slot):
    old_slot, target = make_slot(), make_slot()
    original = book(patient, patient.patient, old_slot)
    book(stranger, stranger.patient, target)
    with pytest.raises(BookingRefused) as refused:
        move(patient, original, target)
    assert refused.value.code == "slot_taken"
    assert "уже занято" in refused.value.message
    _assert_kept(original, old_slot)


def test_a_target_of_another_specialty_is_refused_and_the_original_kept(patient, make_slot):
    old_slot = make_slot()
    original = book(patient, patient.patient, old_slot)
    other = SlotFactory(doctor=DoctorFactory(clinic=old_slot.doctor.clinic))
    with pytest.raises(BookingRefused) as refused:
        move(patient, original, other)
    assert refused.value.code == "reschedule_other_specialty"
    _assert_kept(original, old_slot)


def test_a_target_overlapping_another_appointment_is_refused(patient, make_slot):
    old_slot = make_slot()
    original = book(patient, patient.patient, old_slot)
    target = make_slot()
    elsewhere = SlotFactory(starts_at=target.starts_at, ends_at=target.ends_at)
    book(patient, patient.patient, elsewhere)
    with pytest.raises(BookingRefused) as refused:
        move(patient, original, target)
    assert refused.value.code == "overlap"
    _assert_kept(original, old_slot)


def test_a_cancelled_appointment_cannot_be_moved(patient, make_slot):
    original = book(patient, patient.patient, make_slot())
    services.appointment_cancel(actor=patient, appointment=original)
    target = make_slot()
    with pytest.raises(BookingRefused) as refused:
        move(patient, original, target)
    assert refused.value.code == "reschedule_not_active"
    target.refresh_from_db()
    assert target.status == Slot.Status.FREE


def test_moving_to_the_same_time_says_so(patient, make_slot):
    old_slot = make_slot()
    original = book(patient, patient.patient, old_slot)
    with pytest.raises(BookingRefused) as refused:
        move(patient, original, old_slot)
    assert refused.value.code == "reschedule_same_slot"
    _assert_kept(original, old_slot)


# --- the pages -------------------------------------------------------------------------


def test_my_appointments_and_the_ticket_offer_to_move(client, patient, make_slot):
    original = book(patient, patient.patient, make_slot())
    client.force_login(patient)
    url = reverse("scheduling:appointment_reschedule", args=[original.pk])
    assert url in client.get(reverse("scheduling:appointment_list")).content.decode()
    ticket = client.get(reverse("scheduling:appointment_ticket", args=[original.pk]))
    assert url in ticket.content.decode()


def test_the_move_page_lists_the_doctors_times_and_colleagues_and_moves_in_one_click(
    client, patient, doctor, make_slot
):
    original = book(patient, patient.patient, make_slot())
    later = make_slot()
    colleague = DoctorFactory(clinic=doctor.clinic, specialty=doctor.specialty, last_name="Ким")
    colleague_slot = SlotFactory(doctor=colleague)
    elsewhere = SlotFactory(doctor=DoctorFactory(specialty=doctor.specialty, last_name="Далёкий"))
    client.force_login(patient)

    page = client.get(reverse("scheduling:appointment_reschedule", args=[original.pk]))
    text = page.content.decode()
    confirm = reverse("scheduling:appointment_reschedule_confirm", args=[original.pk, later.pk])
    assert confirm in text
    assert "Ким" in text and f"/reschedule/{colleague_slot.pk}/" in text
    assert "Далёкий" not in text and f"/reschedule/{elsewhere.pk}/" not in text
    assert f"/reschedule/{original.slot_id}/" not in text

    form = client.get(confirm)
    key = form.context["form"]["key"].value()
    response = client.post(confirm, {"key": key})
    moved = Appointment.objects.get(status="booked", patient=patient.patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:appointment_ticket", args=[moved.pk])
    assert moved.slot_id == later.pk
    journal = client.get(reverse("journal:page", args=[patient.patient.pk])).content.decode()
    assert "Перенос записи" in journal and "Было:" in journal and "Стало:" in journal


def test_a_refused_move_says_why_and_keeps_the_original(client, patient, stranger, make_slot):
    original = book(patient, patient.patient, make_slot())
    target = make_slot()
    client.force_login(patient)
    confirm = reverse("scheduling:appointment_reschedule_confirm", args=[original.pk, target.pk])
    key = client.get(confirm).context["form"]["key"].value()
    book(stranger, stranger.patient, target)  # taken between the page and the click

    response = client.post(confirm, {"key": key})
    assert response.status_code == 409
    text = response.content.decode()
    assert "уже занято" in text and "Прежняя запись сохранена" in text
    original.refresh_from_db()
    assert original.status == Appointment.Status.BOOKED


def test_nobody_else_can_move_an_appointment(client, patient, stranger, make_slot):
    original = book(patient, patient.patient, make_slot())
    client.force_login(stranger)
    assert (
        client.get(reverse("scheduling:appointment_reschedule", args=[original.pk])).status_code
        == 404
    )
    target = make_slot()
    url = reverse("scheduling:appointment_reschedule_confirm", args=[original.pk, target.pk])
    assert client.post(url, {"key": str(uuid.uuid4())}).status_code == 404
    original.refresh_from_db()
    assert original.status == Appointment.Status.BOOKED
