"""Each booking rule of docs/domain.md and each refusal, through the service."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from portal.audit.models import AuditEvent
from portal.directory.models import Clinic
from portal.scheduling.errors import ERRORS, BookingRefused
from portal.scheduling.models import Appointment, Slot
from portal.scheduling.services import appointment_book, appointment_cancel
from tests.factories import AppointmentFactory, ClinicFactory, DoctorFactory, SlotFactory
from tests.scheduling.conftest import in_days, key, specialty


def book(user, patient, slot, idempotency_key=None):
    return appointment_book(
        actor=user, patient=patient, slot_id=slot.pk, idempotency_key=idempotency_key or key()
    )


def refused(user, patient, slot) -> str:
    with pytest.raises(BookingRefused) as info:
        book(user, patient, slot)
    return info.value.code


def test_a_patient_books_a_free_slot_and_it_becomes_booked(patient, slot):
    result = book(patient, patient.patient, slot)
    assert result.created
    slot.refresh_from_db()
    assert slot.status == Slot.Status.BOOKED
    assert result.appointment.patient == patient.patient
    assert result.appointment.booked_by == patient
    assert len(result.appointment.ticket_number) == 12  # digits: the same on every layout
    assert result.appointment.ticket_number.isdigit()
    event = AuditEvent.objects.get(action="appointment.booked")
    assert event.patient == patient.patient and event.user == patient


def test_a_guardian_books_for_the_child_and_the_audit_names_both(guardian, child, slot):
    result = book(guardian, child, slot)
    assert result.appointment.patient == child
    event = AuditEvent.objects.get(action="appointment.booked")
    assert (event.user, event.patient) == (guardian, child)


def test_a_taken_slot_is_refused_with_a_clear_message(patient, stranger, slot):
    book(stranger, stranger.patient, slot)
    assert refused(patient, patient.patient, slot) == "slot_taken"
    assert "уже занято" in str(ERRORS["slot_taken"])


def test_a_taken_slot_is_refused_without_opening_a_locking_transaction(
    patient, stranger, slot, django_assert_max_num_queries
):
    book(stranger, stranger.patient, slot)
    with django_assert_max_num_queries(2):  # slot status, then the idempotency replay check
        assert refused(patient, patient.patient, slot) == "slot_taken"


def test_the_same_key_twice_books_once(patient, slot):
    same = key()
    first = book(patient, patient.patient, slot, same)
    second = book(patient, patient.patient, slot, same)
    assert second.appointment.pk == first.appointment.pk
    assert not second.created
    assert Appointment.objects.count() == 1


def test_slots_not_yet_open_past_or_blocked_are_refused(patient, make_slot):
    not_open = make_slot(opens_at=in_days(1))
    past = make_slot(starts_at=in_days(-1), ends_at=in_days(-1) + datetime.timedelta(minutes=20))
    blocked = make_slot(status=Slot.Status.BLOCKED)
    assert refused(patient, patient.patient, not_open) == "slot_not_open"
    assert refused(patient, patient.patient, past) == "slot_past"
    assert refused(patient, patient.patient, blocked) == "slot_blocked"
    assert not Appointment.objects.exists()


def test_referral_only_specialties_cannot_be_self_booked(patient, home_clinic):
    doctor = DoctorFactory(clinic=home_clinic, specialty=specialty("neuro", "referral", "all"))
    assert refused(patient, patient.patient, SlotFactory(doctor=doctor)) == "referral_only"


def test_attachment_only_specialties_only_at_the_attached_clinic(patient, home_clinic):
    therapist = specialty("therapist", "attachment", "adults")
    elsewhere = SlotFactory(doctor=DoctorFactory(clinic=ClinicFactory(), specialty=therapist))
    at_home = SlotFactory(doctor=DoctorFactory(clinic=home_clinic, specialty=therapist))
    assert refused(patient, patient.patient, elsewhere) == "attachment_only"
    assert book(patient, patient.patient, at_home).created


def test_age_groups_of_specialties_and_clinics(guardian, child, home_clinic):
    adults = SlotFactory(
        doctor=DoctorFactory(clinic=home_clinic, specialty=specialty("uro", "direct", "adults"))
    )
    children = SlotFactory(
        doctor=DoctorFactory(clinic=home_clinic, specialty=specialty("ped", "direct", "children"))
    )
    adult_clinic = SlotFactory(
        doctor=DoctorFactory(
            clinic=ClinicFactory(kind=Clinic.Kind.ADULT),
            specialty=specialty("eye", "direct", "all"),
        )
    )
    assert refused(guardian, child, adults) == "adults_only"
    assert refused(guardian, guardian.patient, children) == "children_only"
    assert refused(guardian, child, adult_clinic) == "clinic_adults"


def test_a_child_of_14_is_refused_from_the_parents_cabinet(guardian, child, slot):
    today = datetime.date.today()
    child.birth_date = today.replace(year=today.year - 14) - datetime.timedelta(days=1)
    child.save(update_fields=["birth_date"])
    assert refused(guardian, child, slot) == "child_too_old"


def test_one_active_future_appointment_per_specialty(patient, make_slot):
    book(patient, patient.patient, make_slot())
    assert refused(patient, patient.patient, make_slot()) == "same_specialty"


def test_no_two_overlapping_appointments(patient, home_clinic, slot):
    book(patient, patient.patient, slot)
    other = DoctorFactory(clinic=home_clinic, specialty=specialty("ent", "direct", "all"))
    clash = SlotFactory(
        doctor=other,
        starts_at=slot.starts_at + datetime.timedelta(minutes=10),
        ends_at=slot.ends_at + datetime.timedelta(minutes=10),
    )
    assert refused(patient, patient.patient, clash) == "overlap"


def test_cancelling_frees_the_slot_at_once_for_someone_else(patient, stranger, slot):
    appointment = book(patient, patient.patient, slot).appointment
    cancelled = appointment_cancel(actor=patient, appointment=appointment)
    assert cancelled.status == Appointment.Status.CANCELLED_PATIENT
    assert AuditEvent.objects.filter(action="appointment.cancelled").count() == 1
    assert book(stranger, stranger.patient, slot).created


def test_cancelling_twice_or_after_the_start_is_refused(patient):
    appointment = AppointmentFactory(patient=patient.patient)
    appointment_cancel(actor=patient, appointment=appointment)
    with pytest.raises(BookingRefused) as info:
        appointment_cancel(actor=patient, appointment=appointment)
    assert info.value.code == "cancel_not_active"
    started = AppointmentFactory(
        patient=patient.patient,
        slot__starts_at=in_days(-1),
        slot__ends_at=in_days(-1) + datetime.timedelta(minutes=20),
    )
    with pytest.raises(BookingRefused) as info:
        appointment_cancel(actor=patient, appointment=started)
    assert info.value.code == "cancel_too_late"


def test_the_database_refuses_a_second_active_appointment_on_a_slot(patient, stranger):
    """The guarantee that holds even if Python is wrong: the partial unique constraint."""
    first = AppointmentFactory(patient=patient.patient)
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(patient=stranger.patient, slot=first.slot)
    first.status = Appointment.Status.CANCELLED_PATIENT
    first.save(update_fields=["status"])
    assert AppointmentFactory(patient=stranger.patient, slot=first.slot).pk
