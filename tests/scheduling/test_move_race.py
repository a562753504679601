"""Issue 27, point 2, on PostgreSQL: a move to a time a week ahead, raced by another
patient booking that very time, keeps the original until the new time is booked.

The control is what a patient did before «Перенести» reached other dates: cancel, then
book again. Another patient who books the time in between leaves her with nothing.
"""

import datetime
import threading
import uuid
from collections import Counter

import pytest
from django.db import connection, connections
from django.utils import timezone

from portal.scheduling import services
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Appointment
from tests.factories import DoctorFactory, PatientFactory, SlotFactory, SpecialtyFactory
from tests.scheduling.test_concurrency import (
    after_a_pause,
    assert_consistent,
    book_call,
    booked_appointment,
    booked_at_once,
    reschedule_call,
)

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL")


def _week_ahead(doctor, hour: int):
    day = timezone.localdate() + datetime.timedelta(days=7)
    starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
    return SlotFactory(
        doctor=doctor, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=20)
    )


def test_a_move_a_week_ahead_raced_for_its_time_keeps_the_original_or_moves():
    for round_ in range(6):
        doctor = DoctorFactory(specialty=SpecialtyFactory())
        old, target = SlotFactory(doctor=doctor), _week_ahead(doctor, 9 + round_)
        appointment = booked_appointment(old)
        newcomer = PatientFactory(clinic=doctor.clinic)
        outcomes = booked_at_once(
            [
                reschedule_call(appointment, target),
                after_a_pause(book_call(newcomer, target), seconds=round_ / 100),
            ]
        )
        assert outcomes == Counter({"booked": 1, "slot_taken": 1})
        mine = Appointment.objects.get(patient=appointment.patient, status="booked")
        # Whoever won, she holds exactly one time: the new one, or the original untouched.
        assert mine.slot_id in (old.pk, target.pk)
        if mine.slot_id == old.pk:
            assert mine.pk == appointment.pk
        for slot in (old, target):
            assert_consistent(slot)


def test_control_cancel_then_book_again_loses_the_original_to_a_racer():
    doctor = DoctorFactory(specialty=SpecialtyFactory())
    old, target = SlotFactory(doctor=doctor), _week_ahead(doctor, 11)
    appointment = booked_appointment(old)
    newcomer = PatientFactory(clinic=doctor.clinic)
    cancelled, taken = threading.Event(), threading.Event()

    def cancel_then_book():
        try:
            services.appointment_cancel(actor=appointment.booked_by, appointment=appointment)
            cancelled.set()
            assert taken.wait(timeout=10)
            services.appointment_book(
                actor=appointment.booked_by,
                patient=appointment.patient,
                slot_id=target.pk,
                idempotency_key=uuid.uuid4(),
            )
        finally:
            connections.close_all()

    def racer():
        try:
            assert cancelled.wait(timeout=10)
            book_call(newcomer, target)()
            taken.set()
        finally:
            connections.close_all()

    outcome: list[str] = []

    def mover():
        try:
            cancel_then_book()
            outcome.append("booked")
        except BookingRefused as refused:
            outcome.append(refused.code)

    threads = [threading.Thread(target=mover), threading.Thread(target=racer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcome == ["slot_taken"]
    # Without the one-step move she has no appointment at all: the race is real.
    assert not Appointment.objects.filter(patient=appointment.patient, status="booked").exists()
