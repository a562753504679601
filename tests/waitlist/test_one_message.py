"""Issue 27, point 6: a clinic's cancellation and the time held in its place are one
message with the reason; the cancellation alone is still sent when nothing can be held;
links go to the exact ticket or offer; SMS stay within two UCS-2 parts; subjects are clean."""

import datetime

import pytest
from django.utils import timezone

from portal.notifications import delivery, texts
from portal.notifications import services as notify
from portal.notifications.models import Kind, Message, Status
from portal.scheduling.services import absence_record, appointment_cancel_by_clinic
from portal.waitlist.models import Offer
from tests.factories import AppointmentFactory, ClinicFactory, PatientFactory

pytestmark = pytest.mark.django_db

REASON = "Врач заболел"


def _absence(clerk, doctor, days=2):
    day = timezone.localdate() + datetime.timedelta(days=days)
    absence_record(
        actor=clerk, doctor=doctor, kind="sick", starts_on=day, ends_on=day, reason=REASON
    )


@pytest.fixture
def sms_too(settings, guardian):
    settings.SMPP_HOST = "127.0.0.1"
    guardian.patient.phone = "+7(914)1234567"
    guardian.patient.save(update_fields=["phone"])


def test_a_clinic_cancel_with_a_held_time_is_one_message_with_the_reason(
    guardian,
    child,
    doctor,
    colleague,
    make_slot,
    clerk,
    sms_too,
    django_capture_on_commit_callbacks,
):
    booked = make_slot(days=2, status="booked")
    appointment = AppointmentFactory(slot=booked, patient=child, booked_by=guardian)
    make_slot(days=2, hour=11, doctor=colleague)
    with django_capture_on_commit_callbacks(execute=True):
        _absence(clerk, doctor)

    offer = Offer.objects.get()
    mother = guardian.patient
    due = Message.objects.filter(recipient=mother).exclude(status=Status.SKIPPED)
    # One message per channel: the offer, which tells of the cancellation too.
    assert sorted(due.values_list("kind", "channel")) == [
        (Kind.OFFER_REBOOK, "email"),
        (Kind.OFFER_REBOOK, "sms"),
    ]
    skipped = Message.objects.get(recipient=mother, kind=Kind.CANCELLED_BY_CLINIC, channel="sms")
    assert skipped.status == Status.SKIPPED and skipped.appointment_id == appointment.pk
    email = due.get(channel="email")
    assert "Поликлиника отменила запись к врачу (Иванова М.И.)" in email.text
    assert f"Причина отмены: {REASON}" in email.text
    assert f"/offers/#offer-{offer.pk}" in email.text
    sms = due.get(channel="sms").text
    assert f"({REASON})" in sms and "Взамен придержано" in sms
    assert "Запишитесь снова" not in sms
    assert texts.sms_parts(sms) <= 2


def test_with_nothing_to_hold_the_cancellation_goes_alone_once_the_wait_is_over(
    guardian, child, doctor, make_slot, clerk, sms_too, django_capture_on_commit_callbacks
):
    booked = make_slot(days=2, status="booked")
    appointment = AppointmentFactory(slot=booked, patient=child, booked_by=guardian)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel_by_clinic(actor=clerk, appointment=appointment, reason=REASON)
    assert not Offer.objects.exists()
    told = Message.objects.filter(kind=Kind.CANCELLED_BY_CLINIC, recipient=guardian.patient)
    assert told.count() == 2 and all(m.status == Status.QUEUED for m in told)
    # Not due at once (an offer would take its place): a worker polling the outbox takes
    # it once the wait is over.
    channels = ["email", "sms"]
    assert delivery.messages_claim_polled(channels, timezone.now()) == []
    later = timezone.now() + notify.CLINIC_CANCEL_WAIT + datetime.timedelta(seconds=1)
    assert len(delivery.messages_claim_polled(channels, later)) == 2
    sms = told.get(channel="sms").text
    assert f"({REASON})" in sms and f"/appointments/{appointment.pk}/" in sms


def test_every_sms_fits_two_parts_even_with_long_names(
    guardian, doctor, make_slot, clerk, sms_too, django_capture_on_commit_callbacks
):
    long_clinic = ClinicFactory(
        short_name="Детская поликлиника № 11 (Усть-Илимский район, посёлок Железнодорожный)"
    )
    doctor.clinic = long_clinic
    doctor.room = "214-Б"
    doctor.save()
    kid = PatientFactory(
        user=None,
        esia_oid=None,
        last_name="Константинопольская-Верхнеудинская",
        first_name="Александра",
        middle_name="Владиславовна",
        birth_date=timezone.localdate().replace(year=timezone.localdate().year - 9),
        clinic=long_clinic,
    )
    from tests.factories import GuardianshipFactory

    GuardianshipFactory(guardian=guardian.patient, child=kid)
    appointment = AppointmentFactory(
        slot=make_slot(days=3, status="booked"), patient=kid, booked_by=guardian
    )
    recipient = guardian.patient
    reason = "Врач направлен на курсы повышения квалификации в областной центр на две недели"
    contents = [
        texts.appointment_content(kind, appointment, recipient, reason)
        for kind in (
            Kind.BOOKED,
            Kind.CANCELLED,
            Kind.CANCELLED_BY_CLINIC,
            Kind.REMINDER_EVENING,
            Kind.REMINDER_SOON,
        )
    ]
    appointment.cancel_reason = reason
    until = timezone.now() + datetime.timedelta(hours=3)
    contents.append(
        texts.offer_content(
            Kind.OFFER_REBOOK,
            kid,
            recipient,
            appointment.slot,
            until,
            offer_id=12345,
            cancelled=appointment,
        )
    )
    contents.append(texts.moved_content(appointment, appointment, recipient))
    for content in contents:
        fitted = texts.sms_fit(content.sms)
        assert texts.sms_parts(fitted) <= 2, fitted
        assert "http://" in fitted and fitted.endswith(content.sms.rsplit(" ", 1)[-1])
        assert content.subject == content.subject.strip() and "  " not in content.subject


def test_a_booking_links_to_its_own_ticket(guardian, child, make_slot):
    appointment = AppointmentFactory(
        slot=make_slot(days=2, status="booked"), patient=child, booked_by=guardian
    )
    content = texts.appointment_content(Kind.BOOKED, appointment, guardian.patient)
    assert f"/appointments/{appointment.pk}/" in content.sms
    assert f"/appointments/{appointment.pk}/" in content.text
