"""E-mail over real SMTP (aiosmtpd on 127.0.0.1): content, retries, failures, crashes."""

from unittest import mock

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult
from icalendar import Calendar

from portal.notifications import delivery, sweep
from portal.notifications.models import Kind, Message, Status
from portal.scheduling import services as booking
from tests.factories import PatientFactory
from tests.notifications.conftest import book, run_worker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("email_only")]


def ics_of(message):
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_content())


def test_booked_mail_is_plain_text_and_html_with_the_ticket_calendar_file(
    smtp, mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, mother, slot_at(visit_time))
    run_worker()

    (received,) = smtp.received
    mail = received.message
    assert received.rcpt_tos == ["anna@example.ru"]
    assert mail["Subject"] == f"Запись к врачу {visit_time:%d.%m} в 10:00"
    plain = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    # The HTML part is read in a mail app that wraps lines: «№» joined to its number
    # (docs/accessibility.md, «Typography»); the plain text stays as written.
    assert f"Талон № {appointment.ticket_number}" in plain
    assert f"Талон №\u00a0{appointment.ticket_number}" in html
    assert "№ " not in html
    (event,) = ics_of(mail).walk("VEVENT")
    assert str(event["uid"]) == f"appointment-{appointment.pk}-{appointment.ticket_number}@portal"
    row = Message.objects.get(appointment=appointment, kind=Kind.BOOKED)
    assert row.status == Status.SENT
    assert row.gateway_id == mail["Message-ID"]
    # RFC 6152 and 3834 (issue 23): the 8-bit Russian body is declared, and the message
    # says it is automatic, so out-of-office replies skip it.
    assert "BODY=8BITMIME" in received.mail_options
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "\n" not in mail["Subject"] and not mail["Subject"].startswith(" ")


def test_cancelled_mail_carries_a_cancelled_calendar_event_with_the_same_uid(
    smtp, mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, mother, slot_at(visit_time))
        booking.appointment_cancel(actor=mother.user, appointment=appointment)
    run_worker()

    booked, cancelled = (r.message for r in smtp.received)
    assert "отменена" in cancelled["Subject"]
    calendar = ics_of(cancelled)
    assert str(calendar["method"]) == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    (original,) = ics_of(booked).walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"
    assert event["uid"] == original["uid"]
    assert int(event["sequence"]) > int(original.get("sequence", 0))
    # The reminders of a cancelled visit never go out.
    assert len(smtp.received) == 2


def test_smtp_down_for_a_while_then_up_delivers_everything_and_loses_nothing(
    smtp, clock, mother, slot_at, make_visits, django_capture_on_commit_callbacks
):
    smtp.stop()
    people = [PatientFactory(email=f"p{n}@example.ru", clinic=mother.clinic) for n in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        for person, when in zip(people, make_visits(5), strict=True):
            book(person, person, slot_at(when))
    for _outage_minute in range(3):  # three tries while the relay is down, backing off
        run_worker()
        clock.travel(hours=1)
    assert smtp.received == []
    waiting = Message.objects.filter(kind=Kind.BOOKED)
    assert set(waiting.values_list("status", flat=True)) == {Status.QUEUED}
    assert all(m.attempts == 3 and "SMTP" in m.error for m in waiting)

    smtp.start()
    run_worker()

    assert sorted(r.rcpt_tos[0] for r in smtp.received) == [p.email for p in people]
    assert {m.status for m in waiting.all()} == {Status.SENT}


def test_one_bad_address_fails_alone_and_does_not_hold_up_the_queue(
    smtp, mother, slot_at, make_visits, django_capture_on_commit_callbacks
):
    smtp.handler.refuse = {"nobody@example.ru"}
    others = [PatientFactory(email=f"p{n}@example.ru", clinic=mother.clinic) for n in range(3)]
    bad = PatientFactory(email="nobody@example.ru", clinic=mother.clinic)
    visits = make_visits(4)
    with django_capture_on_commit_callbacks(execute=True):
        book(bad, bad, slot_at(visits[0]))
        for person, when in zip(others, visits[1:], strict=True):
            book(person, person, slot_at(when))
    run_worker()

    assert sorted(r.rcpt_tos[0] for r in smtp.received) == [
        "p0@example.ru",
        "p1@example.ru",
        "p2@example.ru",
    ]
    failed = Message.objects.get(recipient=bad, kind=Kind.BOOKED)
    assert failed.status == Status.FAILED
    assert failed.attempts == 1  # a 5xx refusal is final: no pointless retries
    assert "550" in failed.error


def test_a_message_that_keeps_failing_ends_as_failed_for_the_operator(
    smtp,
    clock,
    settings,
    mother,
    slot_at,
    visit_time,
    admin_user,
    django_capture_on_commit_callbacks,
):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    smtp.stop()
    with django_capture_on_commit_callbacks(execute=True):
        book(mother, mother, slot_at(visit_time))
    for _try in range(5):
        run_worker()
        clock.travel(hours=2)

    message = Message.objects.get(kind=Kind.BOOKED)
    assert (message.status, message.attempts) == (Status.FAILED, 3)
    from tests.workspace.conftest import verified_client

    page = verified_client(admin_user).get(
        "/staff-admin/notifications/message/?status__exact=failed"
    )
    assert "anna@example.ru" in page.content.decode()


def test_killed_after_acknowledging_before_the_task_ack_is_sent_once(
    smtp, clock, monkeypatch, mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    """The worker dies after our row says «sent» but before the task is marked done."""

    class Killed(BaseException):
        pass

    real = delivery.acknowledge

    def ack_then_die(message, ids):
        real(message, ids)
        raise Killed

    monkeypatch.setattr(delivery, "acknowledge", ack_then_die)
    with django_capture_on_commit_callbacks(execute=True):
        book(mother, mother, slot_at(visit_time))
    (message,) = Message.objects.filter(kind=Kind.BOOKED)
    with pytest.raises(Killed):
        delivery.messages_deliver([message.pk])
    monkeypatch.setattr(delivery, "acknowledge", real)  # the restarted worker

    # Restarted: the task is run again and the sweep looks for lost work.
    clock.travel(hours=1)
    sweep.outbox_sweep()
    run_worker()
    delivery.messages_deliver([message.pk])

    assert len(smtp.received) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 1)


def test_killed_between_the_relays_acceptance_and_our_ack_resends_with_the_same_message_id(
    smtp, clock, monkeypatch, mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    """The worker dies right after the relay's 250: we cannot know it was accepted, so the
    lease expires and it goes again, under the same Message-ID: the mailbox keeps one."""

    class Killed(BaseException):
        pass

    real = delivery.acknowledge

    def die(message, ids):
        raise Killed

    monkeypatch.setattr(delivery, "acknowledge", die)
    with django_capture_on_commit_callbacks(execute=True):
        book(mother, mother, slot_at(visit_time))
    (message,) = Message.objects.filter(kind=Kind.BOOKED)
    with pytest.raises(Killed):
        delivery.messages_deliver([message.pk])
    monkeypatch.setattr(delivery, "acknowledge", real)  # the restarted worker
    message.refresh_from_db()
    assert message.status == Status.SENDING

    clock.travel(minutes=4)  # within the lease: nobody takes it
    assert sweep.outbox_sweep().reclaimed == 0
    clock.travel(minutes=2)  # the lease (5 min) has expired
    assert sweep.outbox_sweep().reclaimed == 1
    run_worker()

    first, second = smtp.handler.message_ids()
    assert first == second
    assert len(list(smtp.handler.directory.glob("*.eml"))) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.gateway_id) == (Status.SENT, 2, first)


def test_a_message_no_worker_took_is_enqueued_by_the_sweep(
    smtp, clock, mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        book(mother, mother, slot_at(visit_time))
    # Only the library's own worker runs: it runs tasks and never looks at the outbox.
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command(
            "db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*",
            verbosity=0,
        )  # fmt: skip
    assert smtp.received == []

    assert sweep.outbox_sweep().enqueued == 0  # a polling worker has the grace to take it
    clock.travel(minutes=3)
    assert sweep.outbox_sweep().enqueued == 1
    run_worker()
    assert len(smtp.received) == 1


def test_a_lost_task_is_found_by_the_sweep(
    smtp, clock, mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        book(mother, mother, slot_at(visit_time))
    clock.travel(minutes=3)
    assert sweep.outbox_sweep().enqueued == 1
    DBTaskResult.objects.all().delete()  # that task was lost (another backend, a crash)
    clock.travel(minutes=3)
    assert sweep.outbox_sweep().enqueued == 1
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command(
            "db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*",
            verbosity=0,
        )  # fmt: skip
    assert len(smtp.received) == 1


def test_a_message_that_kills_its_worker_every_time_ends_as_failed(
    smtp, clock, settings, monkeypatch, mother, slot_at, visit_time,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    class Killed(BaseException):
        pass

    def die(message):
        raise Killed

    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    monkeypatch.setattr(delivery, "message_send", die)
    with django_capture_on_commit_callbacks(execute=True):
        book(mother, mother, slot_at(visit_time))
    (message,) = Message.objects.filter(kind=Kind.BOOKED)
    for _restart in range(3):
        with pytest.raises(Killed):
            delivery.messages_deliver([message.pk])
        clock.travel(minutes=6)
        sweep.outbox_sweep()
        message.refresh_from_db()
        if message.status == Status.FAILED:
            break

    assert (message.status, message.attempts) == (Status.FAILED, 2)
    assert "каждой попытке" in message.error


# --- the worker's log names no address (issue 24, point 9) ---------------------------


class _RefusingRelay:
    """A relay that refuses every recipient, naming the address as real relays do."""

    received: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"


def _queued(address: str) -> Message:
    from django.utils import timezone

    recipient = PatientFactory(email=address)
    return Message.objects.create(
        patient=recipient,
        recipient=recipient,
        channel="email",
        kind=Kind.BOOKED,
        address=address,
        subject="Запись к врачу",
        text="Вы записаны к врачу.",
        next_attempt_at=timezone.now(),
        dedupe_key=f"test:{address}",
    )


@pytest.mark.parametrize("address", ["ivanova.refused@example.ru", "ivanova@@example..ru"])
def test_a_refused_address_fails_the_message_and_stays_out_of_the_log(settings, caplog, address):
    from tests.notifications.conftest import SmtpServer

    relay = SmtpServer(_RefusingRelay())  # type: ignore[arg-type]
    relay.start()
    settings.NOTIFICATIONS_EMAIL_BACKEND = "portal.notifications.smtp_backend.EightBitMimeBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", relay.port, 5
    try:
        message = _queued(address)
        with caplog.at_level("DEBUG"):
            delivery.messages_deliver([message.pk])
    finally:
        relay.stop()
    message.refresh_from_db()
    assert message.status == Status.FAILED
    local_part = address.split("@")[0]
    ours = [r.getMessage() for r in caplog.records if r.name != "mail.log"]  # not the relay's
    assert ours and not [line for line in ours if local_part in line]
    assert local_part not in message.error  # shown to operators in the admin


def test_every_mail_passes_pythons_strict_parser(
    smtp, mother, slot_at, make_visits, django_capture_on_commit_callbacks
):
    """Issue 23: a mail reader that refuses defects (email.policy.strict) reads each of
    the outbox's e-mails: booked, cancelled (with the .ics of each)."""
    import email
    import email.policy

    (visit,) = make_visits(1)
    with django_capture_on_commit_callbacks(execute=True):
        dropped = book(mother, mother, slot_at(visit))
        booking.appointment_cancel(actor=mother.user, appointment=dropped)
    run_worker()

    assert len(smtp.received) == 2
    for received in smtp.received:
        parsed = email.message_from_bytes(received.raw, policy=email.policy.strict)
        assert parsed["Subject"] and parsed["Message-ID"] and parsed["Date"]
        assert not parsed.defects
        for part in parsed.walk():
            assert not part.defects
