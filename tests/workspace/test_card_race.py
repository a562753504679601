"""On PostgreSQL: a clerk moves an appointment at the patient's request while the patient
cancels it online (docs/workspace.md, «The patient card»; docs/concurrency.md).

One of them wins and the other is refused; nothing is half-done: either the original is
cancelled and no new time is held, or the original is cancelled by the move and the new
time is the patient's. The control shows that without the locks and the conditional
UPDATE both would "succeed": the patient cancels, yet a new appointment appears.
"""

import threading
import uuid
from collections import Counter

import pytest
from django.db import connection

from portal.scheduling import cancellation, services
from portal.scheduling.models import Appointment, Slot
from tests.factories import DoctorFactory, PatientFactory, SlotFactory
from tests.scheduling.test_concurrency import booked_at_once

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
ROUNDS = 5


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL")


def _booked(home_clinic):
    doctor = DoctorFactory(clinic=home_clinic)
    patient = PatientFactory(clinic=home_clinic)
    original = services.appointment_book(
        actor=patient.user,
        patient=patient,
        slot_id=SlotFactory(doctor=doctor).pk,
        idempotency_key=uuid.uuid4(),
    ).appointment
    return patient, original, SlotFactory(doctor=doctor)


def _calls(clerk, patient, original, new_slot):
    def move():
        services.appointment_reschedule(
            actor=clerk,
            appointment=original,
            new_slot_id=new_slot.pk,
            idempotency_key=uuid.uuid4(),
        )

    def cancel():
        services.appointment_cancel(actor=patient.user, appointment=original)

    return [move, cancel]


def test_a_move_racing_the_patients_cancel_has_one_outcome(clerk, home_clinic):
    for _ in range(ROUNDS):
        patient, original, new_slot = _booked(home_clinic)
        outcomes = booked_at_once(_calls(clerk, patient, original, new_slot))
        assert outcomes["booked"] == 1, outcomes
        assert set(outcomes) - {"booked"} <= {"cancel_not_active", "reschedule_not_active"}
        original.refresh_from_db()
        assert original.status == "cancelled_patient"
        active = Appointment.objects.filter(patient=patient, status="booked")
        new_slot.refresh_from_db()
        if outcomes["reschedule_not_active"]:  # the patient's cancel won
            assert not active.exists() and new_slot.status == "free"
        else:  # the move won; the patient's cancel found nothing active to cancel
            assert [a.slot_id for a in active] == [new_slot.pk]
            assert new_slot.status == "booked"
        assert Slot.objects.get(pk=original.slot_id).status == "free"


def test_control_without_the_locks_the_cancelled_patient_is_booked_anyway(
    clerk, home_clinic, monkeypatch
):
    """Protection off: no patient or slot locks, an unconditional end of the original, and
    the move's checks done before the patient's cancel commits. Both succeed."""
    patient, original, new_slot = _booked(home_clinic)
    cancelled = threading.Event()
    real_check = cancellation._check_move

    def check_then_wait(*args):
        real_check(*args)
        cancelled.wait(timeout=10)

    def end_unconditionally(current, now):
        Appointment.objects.filter(pk=current.pk).update(
            status=Appointment.Status.CANCELLED_PATIENT, cancelled_at=now
        )

    real_cancel = services.appointment_cancel

    def cancel_and_signal(**kwargs):
        try:
            return real_cancel(**kwargs)
        finally:
            cancelled.set()

    unlocked = type(patient).objects.get
    monkeypatch.setattr(cancellation, "patient_lock", lambda pk: unlocked(pk=pk))
    monkeypatch.setattr(cancellation, "slot_lock", lambda pk: None)
    monkeypatch.setattr(cancellation, "slots_lock", lambda *ids: Slot.objects.in_bulk(ids))
    monkeypatch.setattr(cancellation, "_check_move", check_then_wait)
    monkeypatch.setattr(cancellation, "_end_moved", end_unconditionally)
    monkeypatch.setattr(services, "appointment_cancel", cancel_and_signal)
    outcomes = booked_at_once(_calls(clerk, patient, original, new_slot))
    assert outcomes == Counter({"booked": 2})
    # The patient was told the visit is cancelled, yet a new appointment stands.
    assert Appointment.objects.filter(patient=patient, status="booked").count() == 1
