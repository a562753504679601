"""A referral-only specialty is bookable by an active referral of that patient, and only
then; the booking uses it, a cancel gives it back, a move keeps it (docs/referrals.md)."""

import uuid

import pytest
from django.db import IntegrityError, transaction

from portal.audit.models import AuditEvent
from portal.referrals.models import Referral
from portal.scheduling.errors import ERRORS, BookingRefused
from portal.scheduling.models import Appointment
from portal.scheduling.services import (
    appointment_book,
    appointment_cancel,
    appointment_cancel_by_clinic,
    appointment_reschedule,
)
from tests.factories import AppointmentFactory, ClinicFactory, DoctorFactory, SlotFactory
from tests.referrals.conftest import days_from_today


def book(user, patient, slot, referral=None):
    return appointment_book(
        actor=user,
        patient=patient,
        slot_id=slot.pk,
        idempotency_key=uuid.uuid4(),
        referral_id=referral.pk if referral else None,
    ).appointment


def refused(user, patient, slot, referral=None) -> str:
    with pytest.raises(BookingRefused) as info:
        book(user, patient, slot, referral)
    return info.value.code


def test_without_a_referral_the_refusal_says_where_to_get_one(patient, neuro_slot):
    assert refused(patient, patient.patient, neuro_slot) == "referral_only"
    text = str(ERRORS["referral_only"])
    assert "участковый врач" in text and "«Направления»" in text
    assert not Appointment.objects.exists()


def test_an_active_referral_books_and_is_marked_used_by_that_appointment(
    patient, neuro_slot, make_referral
):
    referral = make_referral(patient.patient)
    appointment = book(patient, patient.patient, neuro_slot)
    referral.refresh_from_db()
    assert (referral.status, referral.appointment_id) == ("used", appointment.pk)
    used = AuditEvent.objects.get(action="referral.used")
    assert used.patient == patient.patient and used.details["appointment"] == appointment.pk


def test_someone_elses_referral_does_not_open_the_specialty(
    patient, stranger, neuro_slot, make_referral
):
    make_referral(stranger.patient)
    assert refused(patient, patient.patient, neuro_slot) == "referral_only"


def test_an_expired_referral_does_not_book(patient, neuro_slot, make_referral):
    make_referral(patient.patient, issued_on=days_from_today(-40), valid_until=days_from_today(-1))
    assert refused(patient, patient.patient, neuro_slot) == "referral_only"


def test_a_referral_valid_until_today_still_books(patient, neuro_slot, make_referral):
    make_referral(patient.patient, issued_on=days_from_today(-30), valid_until=days_from_today(0))
    assert book(patient, patient.patient, neuro_slot).status == "booked"


def test_a_cancelled_referral_does_not_book(patient, neuro_slot, make_referral):
    make_referral(patient.patient, status="cancelled")
    assert refused(patient, patient.patient, neuro_slot) == "referral_only"


def test_a_referral_to_another_specialty_does_not_book(patient, neuro_slot, make_referral):
    from tests.factories import SpecialtyFactory

    cardio = SpecialtyFactory(code="cardio-ref", access="referral")
    make_referral(patient.patient, specialty=cardio)
    assert refused(patient, patient.patient, neuro_slot) == "referral_only"


def test_a_referral_to_one_clinic_books_there_only(patient, neuro, make_referral):
    elsewhere = ClinicFactory()
    make_referral(patient.patient, clinic=elsewhere)
    home_slot = SlotFactory(doctor=DoctorFactory(clinic=patient.patient.clinic, specialty=neuro))
    assert refused(patient, patient.patient, home_slot) == "referral_other_clinic"
    there = SlotFactory(doctor=DoctorFactory(clinic=elsewhere, specialty=neuro))
    assert book(patient, patient.patient, there).status == "booked"


def test_the_patient_picks_which_referral_when_several_fit(patient, neuro_slot, make_referral):
    sooner = make_referral(patient.patient, valid_until=days_from_today(5))
    later = make_referral(patient.patient, valid_until=days_from_today(25))
    appointment = book(patient, patient.patient, neuro_slot, referral=later)
    later.refresh_from_db()
    sooner.refresh_from_db()
    assert later.appointment_id == appointment.pk
    assert sooner.status == "active"


def test_without_a_pick_the_soonest_expiring_referral_is_used(patient, neuro_slot, make_referral):
    make_referral(patient.patient, valid_until=days_from_today(25))
    sooner = make_referral(patient.patient, valid_until=days_from_today(5))
    book(patient, patient.patient, neuro_slot)
    sooner.refresh_from_db()
    assert sooner.status == "used"


def test_a_pick_of_a_used_referral_is_refused(patient, neuro_slot, make_referral, neurologist):
    referral = make_referral(patient.patient)
    first = book(patient, patient.patient, neuro_slot, referral=referral)
    appointment_cancel(actor=patient, appointment=first)
    other = make_referral(patient.patient)
    Referral.objects.filter(pk=referral.pk).update(status="cancelled")
    second_slot = SlotFactory(doctor=neurologist)
    assert refused(patient, patient.patient, second_slot, referral=referral) == (
        "referral_not_usable"
    )
    assert book(patient, patient.patient, second_slot, referral=other).status == "booked"


def test_a_used_referral_does_not_book_a_second_time(
    patient, neuro_slot, make_referral, neurologist
):
    make_referral(patient.patient)
    first = book(patient, patient.patient, neuro_slot)
    Appointment.objects.filter(pk=first.pk).update(status="attended")
    assert refused(patient, patient.patient, SlotFactory(doctor=neurologist)) == "referral_only"


def test_the_patients_cancel_gives_the_referral_back(patient, neuro_slot, make_referral):
    referral = make_referral(patient.patient)
    appointment = book(patient, patient.patient, neuro_slot)
    appointment_cancel(actor=patient, appointment=appointment)
    referral.refresh_from_db()
    assert (referral.status, referral.appointment_id) == ("active", None)
    assert AuditEvent.objects.filter(action="referral.returned", patient=patient.patient).exists()


def test_the_clinics_cancel_gives_the_referral_back(
    patient, clerk, neuro_slot, make_referral, neurologist
):
    referral = make_referral(patient.patient)
    appointment = book(patient, patient.patient, neuro_slot)
    appointment_cancel_by_clinic(actor=clerk, appointment=appointment, reason="Врач болен")
    referral.refresh_from_db()
    assert referral.status == "active"
    assert book(patient, patient.patient, SlotFactory(doctor=neurologist)).status == "booked"


def test_a_cancel_after_expiry_frees_the_referral_but_it_reads_expired(
    patient, neuro_slot, make_referral
):
    referral = make_referral(patient.patient)
    appointment = book(patient, patient.patient, neuro_slot)
    Referral.objects.filter(pk=referral.pk).update(
        issued_on=days_from_today(-31), valid_until=days_from_today(-1)
    )
    appointment_cancel(actor=patient, appointment=appointment)
    referral.refresh_from_db()
    assert referral.status == "active" and referral.is_expired_on(days_from_today(0))
    assert not AuditEvent.objects.filter(action="referral.returned").exists()


def test_a_move_keeps_the_referral_on_the_new_appointment(
    patient, neuro_slot, make_referral, neurologist
):
    referral = make_referral(patient.patient)
    appointment = book(patient, patient.patient, neuro_slot)
    moved = appointment_reschedule(
        actor=patient,
        appointment=appointment,
        new_slot_id=SlotFactory(doctor=neurologist).pk,
        idempotency_key=uuid.uuid4(),
    ).appointment
    referral.refresh_from_db()
    assert (referral.status, referral.appointment_id) == ("used", moved.pk)


def test_a_move_to_a_clinic_the_referral_does_not_allow_is_refused(patient, neuro, make_referral):
    there = ClinicFactory()
    make_referral(patient.patient, clinic=there)
    appointment = book(
        patient, patient.patient, SlotFactory(doctor=DoctorFactory(clinic=there, specialty=neuro))
    )
    elsewhere = SlotFactory(doctor=DoctorFactory(clinic=patient.patient.clinic, specialty=neuro))
    with pytest.raises(BookingRefused) as info:
        appointment_reschedule(
            actor=patient,
            appointment=appointment,
            new_slot_id=elsewhere.pk,
            idempotency_key=uuid.uuid4(),
        )
    assert info.value.code == "referral_other_clinic"


def test_the_database_refuses_one_referral_backing_two_appointments(patient, make_referral):
    first = AppointmentFactory(patient=patient.patient)
    second = AppointmentFactory(patient=patient.patient)
    make_referral(patient.patient, status="used", appointment=first)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_referral(patient.patient, status="used", appointment=first)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_referral(patient.patient, status="used", appointment=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_referral(patient.patient, status="active", appointment=second)
