"""The patient hears of a referral cancelled by the clinic, and is reminded a few days
before an unused one expires — by number and link, never the specialty or the reason."""

import uuid

import pytest

from portal.notifications.models import Kind, Message
from portal.notifications.referrals import referral_expiring_notify
from portal.referrals.services import referral_cancel
from portal.scheduling.services import appointment_book
from tests.referrals.conftest import days_from_today

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reachable(guardian, settings):
    settings.SMPP_HOST = ""
    guardian.patient.email = "anna@example.ru"
    guardian.patient.save(update_fields=["email"])


def test_the_guardian_is_told_the_childs_referral_was_cancelled(
    clerk, guardian, child, make_referral
):
    referral = make_referral(child, reason="Подозрение на мигрень")
    referral_cancel(actor=clerk, referral_id=referral.pk, reason="Ошибка в полисе", ip=None)
    told = Message.objects.get(kind=Kind.REFERRAL_CANCELLED)
    assert told.recipient == guardian.patient and told.patient == child
    assert referral.number in told.text
    assert "мигрень" not in told.text and "Невролог" not in told.text


def test_a_reminder_goes_once_before_an_unused_referral_expires(
    guardian, child, make_referral, settings, neuro_slot
):
    settings.REFERRAL_EXPIRY_REMINDER_DAYS = 3
    unused = make_referral(child, valid_until=days_from_today(3))
    make_referral(child, valid_until=days_from_today(10))  # not yet
    used = make_referral(child, valid_until=days_from_today(3))
    appointment_book(
        actor=guardian,
        patient=child,
        slot_id=neuro_slot.pk,
        idempotency_key=uuid.uuid4(),
        referral_id=used.pk,
    )
    assert referral_expiring_notify() == 1
    assert referral_expiring_notify() == 0  # once
    reminder = Message.objects.get(kind=Kind.REFERRAL_EXPIRING)
    assert unused.number in reminder.text and reminder.recipient == guardian.patient
