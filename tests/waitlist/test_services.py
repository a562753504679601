"""The waitlist and its offers, as a patient and a guardian notice them."""

import datetime

import pytest
from django.utils import timezone

from portal.audit.models import AuditAction, AuditEvent
from portal.notifications.models import Kind, Message
from portal.scheduling.models import Appointment, Slot
from portal.scheduling.services import (
    RuleDraft,
    appointment_book,
    appointment_cancel,
    schedule_publish,
)
from portal.waitlist import selectors, services
from portal.waitlist.errors import WaitlistRefused
from portal.waitlist.models import Offer, WaitlistEntry
from tests.factories import AppointmentFactory, PatientFactory, SpecialtyFactory
from tests.scheduling.conftest import key

pytestmark = pytest.mark.django_db


def test_joining_puts_the_patient_in_line_behind_those_who_came_first(
    patient, guardian, child, doctor, join
):
    first = join(patient, patient.patient, doctor)
    second = join(guardian, child, doctor)

    assert selectors.entry_ahead_count(first) == 0
    assert selectors.entry_ahead_count(second) == 1
    rows = selectors.entries_list_for_user(guardian)
    assert [(r.entry.patient_id, r.place, r.ahead) for r in rows] == [(child.pk, 2, 1)]
    assert AuditEvent.objects.filter(action=AuditAction.WAITLIST_JOINED, patient=child).exists()


def test_the_place_in_line_counts_only_those_waiting_for_the_same_times(
    patient, guardian, child, doctor, colleague, join
):
    """Issue 27: people waiting for other dates or another doctor never stand before her."""
    today = timezone.localdate()
    later = {
        "date_from": today + datetime.timedelta(days=10),
        "date_to": today + datetime.timedelta(days=12),
    }
    join(patient, patient.patient, doctor, **later)  # other dates
    other = PatientFactory()
    join(other.user, other, doctor, doctor_id=colleague.pk)  # another doctor
    mine = join(guardian, child, doctor, doctor_id=doctor.pk)

    assert selectors.entry_ahead_count(mine) == 0
    anyone = PatientFactory()
    assert selectors.entry_ahead_count(join(anyone.user, anyone, doctor)) == 2


def test_one_live_entry_per_patient_per_specialty(patient, doctor, join):
    join(patient, patient.patient, doctor)
    with pytest.raises(WaitlistRefused) as info:
        join(patient, patient.patient, doctor)
    assert info.value.code == "already_waiting"
    assert "уже стоит в листе ожидания" in info.value.message


def test_the_booking_rules_refuse_joining_with_their_own_words(patient, home_clinic, join):
    from tests.factories import DoctorFactory

    referral = SpecialtyFactory(code="surgeon", name="Хирург", access="referral")
    doctor = DoctorFactory(clinic=home_clinic, specialty=referral)
    with pytest.raises(WaitlistRefused) as info:
        join(patient, patient.patient, doctor)
    assert info.value.code == "referral_only"
    assert "направлению" in info.value.message


@pytest.mark.parametrize(
    ("shift_from", "shift_to", "code"),
    [(-1, 3, "dates_past"), (3, 1, "dates_order"), (0, 400, "dates_too_far")],
)
def test_bad_dates_are_refused_with_what_to_do(patient, doctor, join, shift_from, shift_to, code):
    today = timezone.localdate()
    with pytest.raises(WaitlistRefused) as info:
        join(
            patient,
            patient.patient,
            doctor,
            date_from=today + datetime.timedelta(days=shift_from),
            date_to=today + datetime.timedelta(days=shift_to),
        )
    assert info.value.code == code


def test_a_cancelled_appointment_is_offered_to_the_first_in_line_and_held(
    patient, guardian, child, stranger, doctor, make_slot, join, django_capture_on_commit_callbacks
):
    slot = make_slot(status="booked")
    booked = AppointmentFactory(slot=slot, patient=stranger.patient)
    join(guardian, child, doctor)

    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(actor=stranger, appointment=booked)

    offer = Offer.objects.get()
    assert (offer.patient_id, offer.slot_id, offer.kind) == (child.pk, slot.pk, "waitlist")
    slot.refresh_from_db()
    assert slot.held_for_id == child.pk and slot.held_until == offer.expires_at
    # Nobody else can book it meanwhile, and the guardian is told.
    with pytest.raises(Exception) as info:
        appointment_book(
            actor=patient, patient=patient.patient, slot_id=slot.pk, idempotency_key=key()
        )
    assert getattr(info.value, "code", None) == "slot_held"
    assert Message.objects.filter(recipient=guardian.patient, kind=Kind.OFFER_WAITLIST).exists()
    assert WaitlistEntry.objects.get().status == WaitlistEntry.Status.OFFERED


def test_taking_an_offer_books_it_once_even_on_a_double_click(
    guardian, child, doctor, make_slot, join
):
    slot = make_slot()
    entry = join(guardian, child, doctor)  # a free time fits: offered at once
    offer = Offer.objects.get(entry=entry)

    first = services.offer_take(actor=guardian, offer=offer)
    again = services.offer_take(actor=guardian, offer=offer)

    assert first.pk == again.pk
    assert Appointment.objects.filter(slot=slot, status="booked").count() == 1
    offer.refresh_from_db()
    entry.refresh_from_db()
    assert offer.status == Offer.Status.TAKEN and entry.status == WaitlistEntry.Status.BOOKED


def test_a_declined_offer_goes_to_the_next_in_line(
    patient, guardian, child, doctor, make_slot, join
):
    slot = make_slot()
    join(guardian, child, doctor)
    join(patient, patient.patient, doctor)
    offer = Offer.objects.get(patient=child)

    services.offer_decline(actor=guardian, offer=offer)

    nxt = Offer.objects.get(status=Offer.Status.OFFERED)
    assert nxt.patient_id == patient.patient.pk and nxt.slot_id == slot.pk
    # The child keeps the place in line for other times.
    assert WaitlistEntry.objects.get(patient=child).status == WaitlistEntry.Status.WAITING


def test_an_expired_offer_reads_expired_and_cannot_be_taken(
    guardian, child, doctor, make_slot, join
):
    make_slot()
    join(guardian, child, doctor)
    offer = Offer.objects.get()
    Offer.objects.filter(pk=offer.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    Slot.objects.filter(pk=offer.slot_id).update(
        held_until=timezone.now() - datetime.timedelta(seconds=1)
    )

    assert selectors.offers_list_for_user(guardian)[0] == []
    with pytest.raises(WaitlistRefused) as info:
        services.offer_take(actor=guardian, offer=offer)
    assert info.value.code == "offer_expired"
    assert services.offers_expire() == 1
    offer.refresh_from_db()
    assert offer.status == Offer.Status.EXPIRED


def test_a_clinic_cancel_offers_the_same_doctor_next_time_else_a_colleague(
    guardian, child, doctor, colleague, make_slot, clerk, django_capture_on_commit_callbacks
):
    from portal.scheduling.services import absence_record

    cancelled_slot = make_slot(days=2, status="booked")
    AppointmentFactory(slot=cancelled_slot, patient=child, booked_by=guardian)
    colleague_slot = make_slot(days=2, hour=11, doctor=colleague)
    make_slot(days=2, hour=12)  # the same doctor, inside the absence: blocked

    with django_capture_on_commit_callbacks(execute=True):
        absence_record(
            actor=clerk,
            doctor=doctor,
            kind="sick",
            starts_on=timezone.localdate() + datetime.timedelta(days=2),
            ends_on=timezone.localdate() + datetime.timedelta(days=2),
            reason="Врач заболел",
        )

    offer = Offer.objects.get()
    assert offer.kind == Offer.Kind.REBOOK and offer.slot_id == colleague_slot.pk
    assert offer.patient_id == child.pk and offer.cancelled.slot_id == cancelled_slot.pk
    assert Message.objects.filter(recipient=guardian.patient, kind=Kind.OFFER_REBOOK).exists()
    appointment = services.offer_take(actor=guardian, offer=offer)
    assert appointment.slot_id == colleague_slot.pk


def test_the_hold_is_shorter_when_the_slot_is_soon(settings):
    now = timezone.now()
    soon = services.offer_expiry(now + datetime.timedelta(minutes=100), now)
    assert soon == now + datetime.timedelta(minutes=40)
    assert services.offer_expiry(now + datetime.timedelta(minutes=70), now) is None
    far = services.offer_expiry(now + datetime.timedelta(days=2), now)
    assert far == now + datetime.timedelta(hours=2)


def test_a_patient_who_booked_the_specialty_meanwhile_is_skipped(
    patient, guardian, child, doctor, make_slot, join, django_capture_on_commit_callbacks
):
    join(guardian, child, doctor)
    join(patient, patient.patient, doctor)
    AppointmentFactory(slot=make_slot(days=3, status="booked"), patient=child, booked_by=guardian)
    other = PatientFactory()
    freed = AppointmentFactory(slot=make_slot(days=4, status="booked"), patient=other)

    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(actor=other.user, appointment=freed)

    assert Offer.objects.get().patient_id == patient.patient.pk


def test_times_a_schedule_change_opens_go_to_the_waitlist_first(
    clerk, guardian, child, doctor, join, django_capture_on_commit_callbacks
):
    join(guardian, child, doctor)
    draft = RuleDraft(
        weekdays="1234567",
        start_time=datetime.time(8, 0),
        end_time=datetime.time(9, 0),
        break_start=None,
        break_end=None,
        slot_minutes=30,
        days_ahead=14,
        # Opened already today, so the new times are bookable at once.
        opens_at=datetime.time(0, 0),
        valid_from=None,
        valid_until=None,
    )

    with django_capture_on_commit_callbacks(execute=True):
        schedule_publish(
            actor=clerk, doctor=doctor, rule_id=None, draft=draft, reason="Новые часы приёма"
        )

    offer = Offer.objects.get()
    assert offer.patient_id == child.pk and offer.slot.doctor_id == doctor.pk
    assert Slot.objects.filter(doctor=doctor, status=Slot.Status.FREE).count() > 1
