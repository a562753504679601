"""Real races on PostgreSQL: threads, each with its own connection (docs/concurrency.md).

SQLite serialises writers with IMMEDIATE transactions, so a race there proves nothing;
these tests run on PostgreSQL only. The control test switches the protection off and
shows the race is real, so the other tests are known to be able to fail.
"""

import threading
import uuid
from collections import Counter

import pytest
from django.db import connection, connections

from portal.scheduling import services
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Appointment, Slot
from tests.factories import DoctorFactory, PatientFactory, SlotFactory, SpecialtyFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL")


def run_at_once(calls):
    """Start every call at the same moment; return each one's outcome (code or 'booked')."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(call):
        try:
            barrier.wait()
            call()
            outcome = "booked"
        except BookingRefused as refused:
            outcome = refused.code
        except Exception as exc:  # any escaping exception is a test failure below
            outcome = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return Counter(outcomes)


def book_call(patient, slot):
    return lambda: services.appointment_book(
        actor=patient.user, patient=patient, slot_id=slot.pk, idempotency_key=uuid.uuid4()
    )


def test_fifty_patients_racing_for_one_slot_get_one_booking_and_49_clear_refusals():
    slot = SlotFactory()
    patients = [PatientFactory(clinic=slot.doctor.clinic) for _ in range(50)]
    outcomes = run_at_once([book_call(p, slot) for p in patients])
    assert outcomes == Counter({"booked": 1, "slot_taken": 49})
    assert Appointment.objects.filter(slot=slot, status="booked").count() == 1


def test_one_patient_booking_one_specialty_twice_at_once_gets_one():
    doctor = DoctorFactory(specialty=SpecialtyFactory())
    first, second = SlotFactory(doctor=doctor), SlotFactory(doctor=doctor)
    patient = PatientFactory(clinic=doctor.clinic)
    outcomes = run_at_once([book_call(patient, first), book_call(patient, second)])
    assert outcomes == Counter({"booked": 1, "same_specialty": 1})
    assert Appointment.objects.filter(patient=patient).count() == 1


def test_control_without_the_patient_lock_the_race_books_twice(monkeypatch):
    """Protection off: no patient lock, and both requests pass the rule check before
    either writes (a barrier holds them there). Two appointments for one specialty
    prove the race is real and that the lock is what prevents it."""
    doctor = DoctorFactory(specialty=SpecialtyFactory())
    first, second = SlotFactory(doctor=doctor), SlotFactory(doctor=doctor)
    patient = PatientFactory(clinic=doctor.clinic)
    both_checked = threading.Barrier(2)
    real_check = services._check

    def check_then_wait(*args):
        real_check(*args)
        both_checked.wait(timeout=10)

    monkeypatch.setattr(services, "_lock_patient", lambda pk: type(patient).objects.get(pk=pk))
    monkeypatch.setattr(services, "_check", check_then_wait)
    outcomes = run_at_once([book_call(patient, first), book_call(patient, second)])
    assert outcomes == Counter({"booked": 2})
    assert Appointment.objects.filter(patient=patient, status="booked").count() == 2


def test_control_without_lock_and_recheck_the_constraint_still_stops_a_double_booking(
    monkeypatch,
):
    """Python protection off (no slot lock, no re-check, no conditional update): the
    partial unique constraint alone turns the second booking into «slot taken»."""
    slot = SlotFactory()
    patients = [PatientFactory(clinic=slot.doctor.clinic) for _ in range(2)]
    both_checked = threading.Barrier(2)

    def no_check(*args):
        both_checked.wait(timeout=10)

    monkeypatch.setattr(services, "_lock_patient", lambda pk: type(patients[0]).objects.get(pk=pk))
    monkeypatch.setattr(services, "_check", no_check)
    monkeypatch.setattr(
        services,
        "_lock_slot",
        lambda pk: Slot.objects.select_related("doctor__clinic", "doctor__specialty").get(pk=pk),
    )
    monkeypatch.setattr(services, "_claim_slot", lambda slot_row: None)
    outcomes = run_at_once([book_call(p, slot) for p in patients])
    assert outcomes == Counter({"booked": 1, "slot_taken": 1})
    assert Appointment.objects.filter(slot=slot, status="booked").count() == 1
