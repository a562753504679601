"""SMS from the outbox to the SMSC emulator over TCP, and delivery receipts back."""

import datetime
import time

import pytest

from portal.notifications import channels, receipts, reminders
from portal.notifications.models import Channel, Kind, Message, MessagePart, Status
from portal.notifications.smpp.client import SmppGateway
from portal.smsc_emulator.runner import SmscEmulatorThread, running_smsc
from tests.notifications.conftest import book, run_worker

pytestmark = pytest.mark.django_db


class Smsc:
    def __init__(self, thread: SmscEmulatorThread, gateway: SmppGateway) -> None:
        self.thread = thread
        self.gateway = gateway

    @property
    def emulator(self):
        return self.thread.emulator

    def texts(self) -> list[tuple[str, str]]:
        return [(m.destination, m.text) for m in self.emulator.store.messages()]

    def stop(self) -> None:
        self.thread.stop()
        self.gateway.close()

    def start(self) -> None:
        self.thread = SmscEmulatorThread(self.emulator, port=self.thread.port).start()

    def receipts(self, expected: int, seconds: float = 5.0) -> None:
        """Read receipts on this thread (the worker's keep-alive thread does it in production)."""
        deadline = time.monotonic() + seconds
        while MessagePart.objects.exclude(state="").count() < expected:
            assert time.monotonic() < deadline, "receipts did not arrive"
            self.gateway.poll(0.05)


@pytest.fixture
def smsc(settings, smtp):
    with running_smsc(system_id="portal", password="secret") as thread:
        settings.SMPP_HOST, settings.SMPP_PORT = "127.0.0.1", thread.port
        settings.SMPP_SYSTEM_ID, settings.SMPP_PASSWORD = "portal", "secret"
        settings.SMPP_TIMEOUT_SECONDS = 2
        thread.emulator.controls.receipt_delay = 0.05
        gateway = SmppGateway.from_settings(on_receipt=receipts.receipt_apply)
        channels._gateway = gateway  # no keep-alive thread: the test reads receipts itself
        yield Smsc(thread, gateway)
        channels.sms_gateway_close()


def sms_rows():
    return Message.objects.filter(channel=Channel.SMS)


def test_booking_for_a_child_texts_both_guardians_and_receipts_mark_them_delivered(
    smsc, mother, father, daughter, slot_at, visit_time, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, daughter, slot_at(visit_time))
    run_worker()

    booked = sms_rows().filter(kind=Kind.BOOKED)
    assert sorted(smsc.texts()) == sorted((m.address, m.text) for m in booked)
    # Receipts for the first SMS may already come in while the second is submitted.
    assert {m.status for m in booked} <= {Status.SENT, Status.DELIVERED}
    parts = MessagePart.objects.filter(message__in=booked)
    assert parts.count() == sum(len(m.message_ids) for m in smsc.emulator.store.messages())
    assert parts.count() > 2  # Cyrillic in UCS-2: these texts take several parts each
    first = {m.gateway_id for m in booked}
    assert first == {m.message_ids[0] for m in smsc.emulator.store.messages()}

    smsc.receipts(parts.count())
    assert {m.status for m in booked.all()} == {Status.DELIVERED}
    assert appointment.ticket_number in booked[0].text


def test_an_undelivered_receipt_marks_the_message_failed(
    smsc, mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    smsc.emulator.controls.receipt_state = "UNDELIV"
    with django_capture_on_commit_callbacks(execute=True):
        book(mother, mother, slot_at(visit_time))
    run_worker()
    message = sms_rows().get(kind=Kind.BOOKED)
    smsc.receipts(message.parts.count())

    message.refresh_from_db()
    assert (message.status, message.error) == (Status.FAILED, "SMSC: UNDELIV")


def test_smsc_down_for_a_while_then_up_delivers_every_sms(
    smsc, clock, mother, father, slot_at, make_visits, django_capture_on_commit_callbacks
):
    smsc.stop()
    first, second = make_visits(2)
    with django_capture_on_commit_callbacks(execute=True):
        book(mother, mother, slot_at(first))
        book(father, father, slot_at(second))
    for _try in range(3):
        run_worker()
        clock.travel(hours=1)
    waiting = sms_rows().filter(kind=Kind.BOOKED)
    assert {(m.status, m.attempts) for m in waiting} == {(Status.QUEUED, 3)}

    smsc.start()
    run_worker()

    assert sorted(d for d, _text in smsc.texts()) == ["79141234567", "79145550000"]
    assert {m.status for m in waiting.all()} <= {Status.SENT, Status.DELIVERED}


def test_throttling_backs_off_for_seconds_then_sends(
    smsc, clock, mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    smsc.emulator.controls.throttle_next = 1
    with django_capture_on_commit_callbacks(execute=True):
        book(mother, mother, slot_at(visit_time))
    run_worker()
    message = sms_rows().get(kind=Kind.BOOKED)
    assert message.status == Status.QUEUED
    assert "ограничение скорости" in message.error
    assert (message.next_attempt_at - clock.now).total_seconds() == 5

    clock.travel(seconds=5)
    run_worker()
    message.refresh_from_db()
    assert message.status in (Status.SENT, Status.DELIVERED)
    assert len(smsc.texts()) == 1


def test_a_receipt_that_comes_before_the_ids_are_recorded_is_not_lost(
    smsc, mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        book(mother, mother, slot_at(visit_time))
    message = sms_rows().get(kind=Kind.BOOKED)
    Message.objects.filter(pk=message.pk).update(status=Status.SENT)

    receipts.receipt_apply("early-1", "DELIVRD")
    receipts.parts_record(message.pk, ["early-1"])

    message.refresh_from_db()
    assert message.status == Status.DELIVERED


def test_a_reminder_sms_expires_at_the_visit_and_a_confirmation_does_not(
    smsc, mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    """Issue 23: a reminder delivered after the visit began (a phone switched off all
    night) is worse than none; the SMSC is told to drop it then (validity_period)."""
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, mother, slot_at(visit_time))
    reminders.reminders_write(visit_time - datetime.timedelta(hours=1))  # written when due
    reminder = sms_rows().filter(kind__in=(Kind.REMINDER_EVENING, Kind.REMINDER_SOON)).first()
    confirmation = sms_rows().get(kind=Kind.BOOKED)
    assert reminder is not None

    channels.sms_send(reminder)
    channels.sms_send(confirmation)

    sent = {m.text: m for m in smsc.emulator.store.messages()}
    starts = appointment.starts_at.astimezone(datetime.UTC)
    assert sent[reminder.text].valid_until == starts.strftime("%y%m%d%H%M%S") + "000+"
    assert sent[confirmation.text].valid_until == ""
