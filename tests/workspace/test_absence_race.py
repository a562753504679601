"""On PostgreSQL: an absence over 200 booked appointments racing with patients who book
and cancel the same doctor's slots (docs/concurrency.md, docs/workspace.md).

Afterwards no appointment is active on the absent doctor, no slot holds two, nothing is
half-done (one absence, every slot of the dates blocked or held by an ended appointment),
and each patient cancelled by the clinic has exactly one journal entry saying so.
"""

import datetime
import time
import uuid
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from portal.audit.models import AuditAction, AuditEvent
from portal.notifications.models import Kind, Message
from portal.scheduling import services
from portal.scheduling.models import Absence, Appointment, Slot
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory, SlotFactory
from tests.scheduling.test_concurrency import booked_at_once

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

BOOKED = 200
FREE = 20


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL")


def test_an_absence_over_200_bookings_racing_with_bookings_and_cancellations(clerk, home_clinic):
    doctor = DoctorFactory(clinic=home_clinic)
    tz = timezone.get_current_timezone()
    first_day = timezone.localdate() + datetime.timedelta(days=2)
    base = datetime.datetime.combine(first_day, datetime.time(0, 0), tzinfo=tz)
    slots = [
        SlotFactory(
            doctor=doctor,
            starts_at=base + datetime.timedelta(minutes=20 * n),
            ends_at=base + datetime.timedelta(minutes=20 * n + 20),
            opens_at=base - datetime.timedelta(days=10),
        )
        for n in range(BOOKED + FREE)
    ]
    last_day = timezone.localtime(slots[-1].starts_at).date()
    booked = []
    for slot in slots[:BOOKED]:
        Slot.objects.filter(pk=slot.pk).update(status=Slot.Status.BOOKED)
        slot.status = Slot.Status.BOOKED
        holder = PatientFactory(clinic=home_clinic, email=f"p{slot.pk}@example.ru")
        booked.append(AppointmentFactory(slot=slot, patient=holder))
    bookers = [PatientFactory(clinic=home_clinic, email=f"b{n}@example.ru") for n in range(FREE)]

    took: list[float] = []

    def absence():
        started = time.monotonic()
        services.absence_record(
            actor=clerk,
            doctor=doctor,
            kind=Absence.Kind.SICK,
            starts_on=first_day,
            ends_on=last_day,
            reason="Врач заболел",
        )
        took.append(time.monotonic() - started)

    def book(patient, slot):
        return lambda: services.appointment_book(
            actor=patient.user, patient=patient, slot_id=slot.pk, idempotency_key=uuid.uuid4()
        )

    def cancel(appointment):
        return lambda: services.appointment_cancel(
            actor=appointment.patient.user, appointment=appointment
        )

    calls = [absence]
    calls += [book(p, s) for p, s in zip(bookers, slots[BOOKED:], strict=True)]
    calls += [cancel(a) for a in booked[:20]]
    outcomes = booked_at_once(calls)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    # The absence itself went through whole (a patient's call that waited on its locks
    # longer than the lock timeout is refused with «busy, try again», never half-done).
    assert len(took) == 1, outcomes
    print(f"absence over {BOOKED} bookings took {took[0]:.2f} s; outcomes {dict(outcomes)}")

    in_range = Appointment.objects.filter(slot__doctor=doctor)
    assert not in_range.filter(status=Appointment.Status.BOOKED).exists()
    assert Absence.objects.filter(doctor=doctor).count() == 1
    assert not Slot.objects.filter(doctor=doctor, status=Slot.Status.FREE).exists()
    per_slot = Counter(in_range.values_list("slot_id", flat=True))
    assert set(in_range.values_list("status", flat=True)) <= {
        Appointment.Status.CANCELLED_CLINIC,
        Appointment.Status.CANCELLED_PATIENT,
    }
    # A slot freed by a patient and booked again can hold two ended appointments; never
    # two active ones (the database constraint), and never a free slot left open.
    assert max(per_slot.values()) <= 2
    by_clinic = in_range.filter(status=Appointment.Status.CANCELLED_CLINIC)
    assert by_clinic.count() >= BOOKED - 20
    journal = Counter(
        AuditEvent.objects.filter(action=AuditAction.APPOINTMENT_CANCELLED_BY_CLINIC).values_list(
            "details__appointment", flat=True
        )
    )
    assert set(journal) == set(by_clinic.values_list("pk", flat=True))
    assert set(journal.values()) == {1}
    # Each patient cancelled by the clinic is told once (per channel), in the same commit.
    told = Counter(
        Message.objects.filter(
            kind=Kind.CANCELLED_BY_CLINIC, appointment__in=by_clinic
        ).values_list("appointment_id", "channel")
    )
    assert {appointment for appointment, _channel in told} == set(
        by_clinic.values_list("pk", flat=True)
    )
    assert set(told.values()) == {1}
