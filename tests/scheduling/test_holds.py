"""A slot held for one patient (a rebook or waitlist offer): only that patient may book it
until the hold ends, and no search shows it to anyone else."""

import datetime

import pytest
from django.utils import timezone

from portal.scheduling import selectors
from portal.scheduling.errors import BookingRefused
from portal.scheduling.models import Slot
from portal.scheduling.services import (
    appointment_book,
    appointment_cancel,
    slot_hold,
    slot_hold_release,
)
from tests.scheduling.conftest import key


def soon(minutes: int = 60) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=minutes)


def test_a_held_slot_is_refused_to_another_patient_with_what_to_do(slot, patient, guardian):
    assert slot_hold(slot_id=slot.pk, patient_id=guardian.patient.pk, until=soon())

    with pytest.raises(BookingRefused) as info:
        appointment_book(
            actor=patient, patient=patient.patient, slot_id=slot.pk, idempotency_key=key()
        )

    assert info.value.code == "slot_held"
    assert "листа ожидания" in info.value.message
    slot.refresh_from_db()
    assert slot.status == Slot.Status.FREE


def test_the_patient_it_is_held_for_books_it_and_the_hold_ends(slot, guardian):
    slot_hold(slot_id=slot.pk, patient_id=guardian.patient.pk, until=soon())

    booked = appointment_book(
        actor=guardian, patient=guardian.patient, slot_id=slot.pk, idempotency_key=key()
    )

    slot.refresh_from_db()
    assert booked.created and slot.status == Slot.Status.BOOKED
    assert slot.held_for_id is None and slot.held_until is None


def test_searches_do_not_show_a_held_slot_until_it_is_released(slot, guardian):
    day = timezone.localtime(slot.starts_at).date()
    slot_hold(slot_id=slot.pk, patient_id=guardian.patient.pk, until=soon())
    assert selectors.slots_list_free_on(slot.doctor, day) == []

    assert slot_hold_release(slot_id=slot.pk, patient_id=guardian.patient.pk)
    assert selectors.slots_list_free_on(slot.doctor, day) == [slot]


def test_an_expired_hold_no_longer_keeps_anyone_out(slot, patient, guardian):
    Slot.objects.filter(pk=slot.pk).update(
        held_for=guardian.patient, held_until=timezone.now() - datetime.timedelta(seconds=1)
    )

    booked = appointment_book(
        actor=patient, patient=patient.patient, slot_id=slot.pk, idempotency_key=key()
    )

    assert booked.created


def test_a_taken_or_already_held_slot_cannot_be_held(slot, patient, guardian):
    assert slot_hold(slot_id=slot.pk, patient_id=guardian.patient.pk, until=soon())
    assert not slot_hold(slot_id=slot.pk, patient_id=patient.patient.pk, until=soon())
    # Someone else's release leaves the hold alone.
    assert not slot_hold_release(slot_id=slot.pk, patient_id=patient.patient.pk)

    booked = appointment_book(
        actor=guardian, patient=guardian.patient, slot_id=slot.pk, idempotency_key=key()
    )
    assert not slot_hold(slot_id=slot.pk, patient_id=patient.patient.pk, until=soon())

    appointment_cancel(actor=guardian, appointment=booked.appointment)
    assert slot_hold(slot_id=slot.pk, patient_id=patient.patient.pk, until=soon())
