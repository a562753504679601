"""Races over one referral on PostgreSQL (docs/concurrency.md, «The referral row»).

Threads with their own connections, like tests/scheduling/test_concurrency.py; each
protection has a control test that switches it off and shows the race is real.
"""

import threading
import time
import uuid
from collections import Counter

import pytest
from django.db import connection

from portal.patients.models import Patient
from portal.referrals import services as referral_services
from portal.referrals.models import Referral
from portal.scheduling import booking, services
from portal.scheduling.models import Appointment
from tests.factories import DoctorFactory, GuardianshipFactory, PatientFactory, SlotFactory
from tests.scheduling.test_concurrency import booked_at_once

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL")


@pytest.fixture
def family(child, guardian, neuro, make_referral):
    """Мария's two guardians, two neurologists' free times, one referral."""
    second = PatientFactory(clinic=child.clinic)
    GuardianshipFactory(guardian=second, child=child)
    first_slot = SlotFactory(doctor=DoctorFactory(clinic=child.clinic, specialty=neuro))
    second_slot = SlotFactory(doctor=DoctorFactory(clinic=child.clinic, specialty=neuro))
    referral = make_referral(child)
    return child, (guardian, second.user), (first_slot, second_slot), referral


def book_call(user, patient, slot):
    return lambda: services.appointment_book(
        actor=user, patient=patient, slot_id=slot.pk, idempotency_key=uuid.uuid4()
    )


def unlocked_patient(pk):
    return Patient.objects.select_related("clinic").get(pk=pk)


def unlocked_booking_patient(patient, **how):
    """The booking's patient lock (`patients.locks.patient_lock_fresh`) switched off."""
    return patient


def unlocked_referrals(patient_id, specialty_id):
    return list(Referral.objects.filter(patient_id=patient_id, specialty_id=specialty_id))


def test_two_guardians_booking_with_one_referral_get_one_appointment(family):
    child, guardians, slots, referral = family
    outcomes = booked_at_once(
        [book_call(g, child, s) for g, s in zip(guardians, slots, strict=True)]
    )
    assert outcomes["booked"] == 1
    assert sum(outcomes.values()) == 2
    assert set(outcomes) - {"booked"} <= {"referral_only", "same_specialty"}
    referral.refresh_from_db()
    booked = Appointment.objects.get(patient=child, status="booked")
    assert (referral.status, referral.appointment_id) == ("used", booked.pk)


def test_the_referral_lock_alone_keeps_one_referral_to_one_appointment(monkeypatch, family):
    """Without the patient lock the referral row still serialises the two bookings."""
    child, guardians, slots, referral = family
    monkeypatch.setattr(booking, "patient_lock_fresh", unlocked_booking_patient)
    outcomes = booked_at_once(
        [book_call(g, child, s) for g, s in zip(guardians, slots, strict=True)]
    )
    assert outcomes == Counter({"booked": 1, "referral_only": 1})
    booked = Appointment.objects.get(patient=child, status="booked")
    referral.refresh_from_db()
    assert referral.appointment_id == booked.pk


def test_control_without_the_locks_one_referral_books_twice(monkeypatch, family):
    """Protection off (no patient lock, no referral lock) and both requests pass the check
    before either writes: two appointments by one referral prove the race is real."""
    child, guardians, slots, referral = family
    both_checked = threading.Barrier(2)
    real_check = booking._check

    def check_then_wait(*args):
        real_check(*args)
        both_checked.wait(timeout=10)

    monkeypatch.setattr(booking, "patient_lock_fresh", unlocked_booking_patient)
    monkeypatch.setattr(booking, "referrals_lock", unlocked_referrals)
    monkeypatch.setattr(booking, "_check", check_then_wait)
    outcomes = booked_at_once(
        [book_call(g, child, s) for g, s in zip(guardians, slots, strict=True)]
    )
    assert outcomes == Counter({"booked": 2})
    booked = Appointment.objects.filter(patient=child, status="booked")
    assert booked.count() == 2  # and the referral names only the one written last
    referral.refresh_from_db()
    assert referral.appointment_id in {a.pk for a in booked}


def cancel_call(clerk, referral):
    return lambda: referral_services.referral_cancel(
        actor=clerk, referral_id=referral.pk, reason="Выдано по ошибке", ip=None
    )


def lost_cancel(referral):
    """The clinic was told «cancelled» but the referral reads used: the cancel was lost."""
    referral.refresh_from_db()
    return referral.cancelled_at is not None and referral.status != "cancelled"


def test_a_clinic_cancel_racing_a_booking_by_the_referral_ends_one_way(clerk, family):
    child, guardians, slots, _ = family
    for round_ in range(5):
        slot = SlotFactory(doctor=slots[0].doctor)
        referral = Referral.objects.create(
            number=f"RACE-{round_}",
            patient=child,
            specialty=slot.doctor.specialty,
            issuer_clinic=child.clinic,
            issued_on=_today(),
            valid_until=_today(),
        )
        Referral.objects.exclude(pk=referral.pk).update(status="cancelled")
        outcomes = booked_at_once(
            [cancel_call(clerk, referral), _after(book_call(guardians[0], child, slot), round_)]
        )
        referral.refresh_from_db()
        assert not lost_cancel(referral)
        assert referral.status == "cancelled"
        if outcomes["booked"] == 2:  # the booking came first: its appointment is flagged
            assert referral.appointment.status == "booked"
        else:
            assert outcomes == Counter({"booked": 1, "referral_only": 1})
            assert referral.appointment_id is None
        Appointment.objects.filter(patient=child).update(status="cancelled_patient")


def test_control_without_the_locks_a_cancel_is_lost(monkeypatch, clerk, family):
    """Protection off (no patient lock, no referral lock on either side): the booking reads
    the referral active, the clinic's cancel commits, then the booking marks it used over
    the cancel — the clinic's cancel is lost."""
    child, guardians, slots, referral = family
    both_read = threading.Barrier(2)
    real_check = booking._check

    def check_then_let_the_cancel_commit(*args):
        real_check(*args)
        both_read.wait(timeout=10)
        time.sleep(0.5)

    def read_then_wait(referral_id):
        row = Referral.objects.filter(pk=referral_id).first()
        both_read.wait(timeout=10)
        return row

    monkeypatch.setattr(booking, "patient_lock_fresh", unlocked_booking_patient)
    monkeypatch.setattr(referral_services, "patient_lock", unlocked_patient)
    monkeypatch.setattr(booking, "referrals_lock", unlocked_referrals)
    monkeypatch.setattr(booking, "_check", check_then_let_the_cancel_commit)
    monkeypatch.setattr(referral_services, "referral_lock", read_then_wait)
    outcomes = booked_at_once(
        [cancel_call(clerk, referral), book_call(guardians[0], child, slots[0])]
    )
    assert outcomes == Counter({"booked": 2})
    assert lost_cancel(referral)


def _today():
    from django.utils import timezone

    return timezone.localdate()


def _after(call, round_):
    def paused():
        time.sleep(round_ / 100)
        return call()

    return paused
