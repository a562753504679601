"""Real races on PostgreSQL: threads, each with its own connection (docs/concurrency.md).

SQLite serialises writers with IMMEDIATE transactions, so a race there proves nothing;
these tests run on PostgreSQL only. The control test switches the protection off and
shows the race is real, so the other tests are known to be able to fail.
"""

import threading
import time
import uuid
from collections import Counter

import pytest
from django.db import connection

from portal.core import rows
from portal.scheduling import booking, cancellation, services
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Appointment, Slot
from portal.scheduling.slot_locks import ActiveAppointment, SlotForBooking
from tests.factories import (
    DoctorFactory,
    PatientFactory,
    SlotFactory,
    SpecialtyFactory,
    UserFactory,
)
from tests.races import row_held, run_at_once

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL")


def unlocked_patient(patient, **how):
    """The booking's patient lock switched off: the caller's row, no lock taken."""
    return patient


def unlocked_slot(slot_id, patient_id, since):
    """The booking's slot lock switched off: the same reads, no lock taken."""
    slot = Slot.objects.select_related("doctor__clinic", "doctor__specialty").get(pk=slot_id)
    active = Appointment.objects.filter(patient_id=patient_id, status="booked", ends_at__gt=since)
    return SlotForBooking(
        slot, [ActiveAppointment(a.pk, a.specialty_id, a.starts_at, a.ends_at) for a in active]
    )


def inserted_unclaimed(actor, patient, slot, key, note=None, companions=()):
    """The booking's conditional UPDATE switched off: the appointment row alone."""
    return rows.insert(booking.appointment_new(actor, patient, slot, key, note))


def booked_at_once(calls):
    """How the calls ended, counted: "booked" or the refusal's code."""
    return Counter(run_at_once(calls, success="booked"))


def book_call(patient, slot):
    return lambda: services.appointment_book(
        actor=patient.user, patient=patient, slot_id=slot.pk, idempotency_key=uuid.uuid4()
    )


def test_fifty_patients_racing_for_one_slot_get_one_booking_and_49_clear_refusals():
    slot = SlotFactory()
    patients = [PatientFactory(clinic=slot.doctor.clinic) for _ in range(50)]
    outcomes = booked_at_once([book_call(p, slot) for p in patients])
    assert outcomes == Counter({"booked": 1, "slot_taken": 49})
    assert Appointment.objects.filter(slot=slot, status="booked").count() == 1


def test_one_patient_booking_one_specialty_twice_at_once_gets_one():
    doctor = DoctorFactory(specialty=SpecialtyFactory())
    first, second = SlotFactory(doctor=doctor), SlotFactory(doctor=doctor)
    patient = PatientFactory(clinic=doctor.clinic)
    outcomes = booked_at_once([book_call(patient, first), book_call(patient, second)])
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
    real_check = booking._check

    def check_then_wait(*args):
        real_check(*args)
        both_checked.wait(timeout=10)

    monkeypatch.setattr(booking, "patient_lock_fresh", unlocked_patient)
    monkeypatch.setattr(booking, "_check", check_then_wait)
    outcomes = booked_at_once([book_call(patient, first), book_call(patient, second)])
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

    monkeypatch.setattr(booking, "patient_lock_fresh", unlocked_patient)
    monkeypatch.setattr(booking, "_check", no_check)
    monkeypatch.setattr(booking, "slot_lock_for_booking", unlocked_slot)
    monkeypatch.setattr(booking, "appointment_claim", inserted_unclaimed)
    outcomes = booked_at_once([book_call(p, slot) for p in patients])
    assert outcomes == Counter({"booked": 1, "slot_taken": 1})
    assert Appointment.objects.filter(slot=slot, status="booked").count() == 1


# --- the clinic's cancellation against the patient's actions ---------------------------


def clinic_cancel_call(staff, appointment, *, free_slot=True):
    return lambda: services.appointment_cancel_by_clinic(
        actor=staff, appointment=appointment, reason="Врач на курсах", free_slot=free_slot
    )


def booked_appointment(slot):
    patient = PatientFactory(clinic=slot.doctor.clinic)
    return services.appointment_book(
        actor=patient.user, patient=patient, slot_id=slot.pk, idempotency_key=uuid.uuid4()
    ).appointment


def after_a_pause(call, *, seconds):
    def paused():
        time.sleep(seconds)
        return call()

    return paused


def assert_consistent(slot):
    """The slot says booked exactly when one active appointment holds it."""
    slot.refresh_from_db()
    active = Appointment.objects.filter(slot=slot, status="booked").count()
    assert active <= 1
    assert (slot.status == Slot.Status.BOOKED) == (active == 1), (slot.status, active)


def patient_cancel_call(appointment):
    return lambda: services.appointment_cancel(actor=appointment.booked_by, appointment=appointment)


def test_a_clinic_cancel_racing_the_patients_cancel_ends_one_way_only():
    for _ in range(5):  # a few rounds: either side may win, both must end the same
        slot = SlotFactory()
        staff = UserFactory(esia_oid=None, is_staff=True, clinic=slot.doctor.clinic)
        appointment = booked_appointment(slot)
        outcomes = booked_at_once(
            [clinic_cancel_call(staff, appointment), patient_cancel_call(appointment)]
        )
        # "booked" is run_at_once's word for "succeeded": one cancel wins, one is refused.
        assert outcomes == Counter({"booked": 1, "cancel_not_active": 1})
        appointment.refresh_from_db()
        assert appointment.status in ("cancelled_clinic", "cancelled_patient")
        assert_consistent(slot)
        slot.refresh_from_db()
        assert slot.status == Slot.Status.FREE


@pytest.mark.parametrize("free_slot", [True, False])
def test_a_clinic_cancel_racing_a_booking_of_the_same_slot_ends_consistent(free_slot):
    for round_ in range(6):
        slot = SlotFactory()
        staff = UserFactory(esia_oid=None, is_staff=True, clinic=slot.doctor.clinic)
        appointment = booked_appointment(slot)
        newcomer = PatientFactory(clinic=slot.doctor.clinic)
        outcomes = booked_at_once(
            [
                clinic_cancel_call(staff, appointment, free_slot=free_slot),
                # A few milliseconds apart, so some rounds book before the cancel commits
                # and some after: both orders must end consistent.
                after_a_pause(book_call(newcomer, slot), seconds=round_ / 100),
            ]
        )
        # The cancellation always succeeds ("booked": run_at_once's word for success). The
        # booking came first (refused: taken) or after it (booked if the time was freed,
        # refused if it was closed).
        after = "booked" if free_slot else "slot_blocked"
        assert outcomes in (Counter(["booked", "slot_taken"]), Counter(["booked", after])), outcomes
        assert_consistent(slot)
        appointment.refresh_from_db()
        assert appointment.status == "cancelled_clinic"


def test_a_lock_held_too_long_answers_busy_and_writes_nothing(settings):
    """Another transaction holds the patient row past SCHEDULING_LOCK_TIMEOUT_MS: the
    clinic's cancel gives up with «busy» (SQLSTATE 55P03), and nothing changes."""
    settings.SCHEDULING_LOCK_TIMEOUT_MS = 200
    slot = SlotFactory()
    staff = UserFactory(esia_oid=None, is_staff=True, clinic=slot.doctor.clinic)
    appointment = booked_appointment(slot)
    with (
        row_held(type(appointment.patient), appointment.patient_id),
        pytest.raises(BookingRefused) as info,
    ):
        clinic_cancel_call(staff, appointment)()
    assert info.value.code == "busy"
    assert_consistent(slot)
    appointment.refresh_from_db()
    assert appointment.status == "booked"


@pytest.mark.parametrize("held", ["patient", "slot"])
def test_a_booking_waiting_past_the_lock_timeout_answers_busy_and_writes_nothing(settings, held):
    """The booking sets its lock timeout in the round trip of its first lock
    (`patients.locks.patient_lock_fresh`): whether the patient's row or the slot's is held
    past it, the patient gets «busy», and neither the slot nor an appointment changes."""
    settings.SCHEDULING_LOCK_TIMEOUT_MS = 200
    slot = SlotFactory()
    patient = PatientFactory(clinic=slot.doctor.clinic)
    model, pk = (type(patient), patient.pk) if held == "patient" else (Slot, slot.pk)
    with row_held(model, pk), pytest.raises(BookingRefused) as info:
        book_call(patient, slot)()
    assert info.value.code == "busy"
    slot.refresh_from_db()
    assert slot.status == "free"
    assert not Appointment.objects.filter(slot=slot).exists()


# --- «Перенести» -----------------------------------------------------------------------


def reschedule_call(appointment, slot):
    return lambda: services.appointment_reschedule(
        actor=appointment.booked_by,
        appointment=appointment,
        new_slot_id=slot.pk,
        idempotency_key=uuid.uuid4(),
    )


def test_two_moves_of_one_appointment_at_once_one_wins():
    for _ in range(4):
        doctor = DoctorFactory(specialty=SpecialtyFactory())
        old, first, second = (SlotFactory(doctor=doctor) for _ in range(3))
        appointment = booked_appointment(old)
        outcomes = booked_at_once(
            [reschedule_call(appointment, first), reschedule_call(appointment, second)]
        )
        assert outcomes == Counter({"booked": 1, "reschedule_not_active": 1})
        assert Appointment.objects.filter(patient=appointment.patient, status="booked").count() == 1
        for slot in (old, first, second):
            assert_consistent(slot)


def test_control_without_the_patient_lock_and_the_recheck_two_moves_both_book(monkeypatch):
    """Protection off (no patient or slot locks, no re-check, no conditional end of the
    old one, both held after the check): both moves book, leaving the patient two appointments in
    one specialty. The race is real; the lock and the re-check are what stop it."""
    doctor = DoctorFactory(specialty=SpecialtyFactory())
    old, first, second = (SlotFactory(doctor=doctor) for _ in range(3))
    appointment = booked_appointment(old)
    both_checked = threading.Barrier(2)

    def no_check(*args):
        both_checked.wait(timeout=10)

    real_filter = Appointment.objects.filter

    monkeypatch.setattr(
        cancellation, "patient_lock", lambda pk: type(appointment.patient).objects.get(pk=pk)
    )
    monkeypatch.setattr(cancellation, "_check_move", no_check)
    monkeypatch.setattr(
        cancellation,
        "slots_lock",
        lambda *pks: {
            s.pk: s for s in Slot.objects.select_related("doctor__specialty").filter(pk__in=pks)
        },
    )
    monkeypatch.setattr(
        cancellation,
        "_end_moved",
        lambda current, now: real_filter(pk=current.pk).update(status="cancelled_patient"),
    )
    outcomes = booked_at_once(
        [reschedule_call(appointment, first), reschedule_call(appointment, second)]
    )
    assert outcomes == Counter({"booked": 2})
    assert Appointment.objects.filter(patient=appointment.patient, status="booked").count() == 2


def test_a_move_racing_another_patients_booking_of_the_target_never_gives_both():
    for round_ in range(6):
        doctor = DoctorFactory(specialty=SpecialtyFactory())
        old, target = SlotFactory(doctor=doctor), SlotFactory(doctor=doctor)
        appointment = booked_appointment(old)
        newcomer = PatientFactory(clinic=doctor.clinic)
        outcomes = booked_at_once(
            [
                reschedule_call(appointment, target),
                after_a_pause(book_call(newcomer, target), seconds=round_ / 100),
            ]
        )
        assert outcomes == Counter({"booked": 1, "slot_taken": 1})
        assert Appointment.objects.filter(slot=target, status="booked").count() == 1
        mover_active = Appointment.objects.filter(patient=appointment.patient, status="booked")
        # The loser of the race keeps exactly what they had.
        assert mover_active.count() == 1
        for slot in (old, target):
            assert_consistent(slot)
