"""The outbox rows are written with the booking: who gets what, and nothing on rollback.

The booking writes its confirmation only; the reminders are written when due (issue 25,
`reminders`), to the recipients and addresses the confirmation went to."""

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from portal.notifications import channels, polling, receivers, reminders, sweep
from portal.notifications import services as notify
from portal.notifications.models import (
    REMINDER_KINDS,
    Channel,
    Event,
    Kind,
    Message,
    Preference,
    Status,
)
from portal.notifications.texts import SMS_MAX_PARTS, sms_parts
from portal.scheduling import services as booking
from tests.notifications.conftest import book, deliver_due, run_worker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("email_only")]


def kinds_by_recipient(appointment):
    rows = Message.objects.filter(appointment=appointment)
    return sorted((m.recipient.first_name, m.kind, m.channel) for m in rows)


def write_due_reminders(visit_time):
    """The sweep's reminder step an hour before the visit: both reminders are due."""
    return reminders.reminders_write(visit_time - datetime.timedelta(hours=1))


def test_booking_for_self_writes_the_confirmation_and_the_reminders_when_due(
    mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, mother, slot_at(visit_time))

    rows = Message.objects.filter(appointment=appointment)
    assert list(rows.values_list("kind", flat=True)) == [Kind.BOOKED]
    write_due_reminders(visit_time)
    assert sorted(rows.values_list("kind", flat=True)) == [
        Kind.BOOKED,
        Kind.REMINDER_EVENING,
        Kind.REMINDER_SOON,
    ]
    assert {m.address for m in rows} == {"anna@example.ru"}
    confirmation = rows.get(kind=Kind.BOOKED)
    assert "Вы записаны к врачу." in confirmation.text
    assert appointment.ticket_number in confirmation.text
    # No task row: a worker polling the outbox takes the confirmation (issue 25).
    assert not DBTaskResult.objects.exists()


def test_the_booking_writes_one_event_row_and_a_polling_worker_sends_the_confirmation(
    settings, monkeypatch, smtp, mother, slot_at, visit_time
):
    """Issue 25: inside the booking's transaction the outbox costs one small row (no
    message per recipient and channel, no task row), on PostgreSQL written by the claim's
    own statement, elsewhere by one INSERT of its own; a polling worker writes and sends."""
    settings.SMPP_HOST = "127.0.0.1"  # e-mail and SMS: still one row
    assert mother.user is not None
    with CaptureQueriesContext(connection) as captured:
        appointment = booking.appointment_book(
            actor=mother.user,
            patient=mother,
            slot_id=slot_at(visit_time).pk,
            idempotency_key=uuid.uuid4(),
        ).appointment

    writes = [q["sql"] for q in captured.captured_queries if '"notifications_event"' in q["sql"]]
    assert len(writes) == 1
    if connection.vendor == "postgresql":
        assert writes[0].startswith("WITH claimed")
    else:
        assert writes[0].startswith('INSERT INTO "notifications_event"')
    assert list(Event.objects.values_list("appointment_id", "kind")) == [
        (appointment.pk, Kind.BOOKED)
    ]
    assert not Message.objects.exists() and not DBTaskResult.objects.exists()

    monkeypatch.setattr(channels, "sms_send", lambda message: ["sms-1"])
    run_worker()
    assert not Event.objects.exists()
    sent = Message.objects.filter(appointment=appointment, status=Status.SENT)
    assert sorted(sent.values_list("kind", "channel")) == [
        (Kind.BOOKED, Channel.EMAIL),
        (Kind.BOOKED, Channel.SMS),
    ]
    assert len(smtp.received) == 1


def test_a_patient_with_no_address_costs_the_booking_nothing(mother, slot_at, visit_time):
    type(mother).objects.filter(pk=mother.pk).update(email="", phone="")
    mother.refresh_from_db()
    assert mother.user is not None
    booking.appointment_book(
        actor=mother.user,
        patient=mother,
        slot_id=slot_at(visit_time).pk,
        idempotency_key=uuid.uuid4(),
    )
    assert not Event.objects.exists()


def test_a_booking_cancelled_before_the_worker_came_is_told_in_order(
    smtp, mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    assert mother.user is not None
    slot = slot_at(visit_time)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = booking.appointment_book(
            actor=mother.user, patient=mother, slot_id=slot.pk, idempotency_key=uuid.uuid4()
        ).appointment
        booking.appointment_cancel(actor=mother.user, appointment=appointment)
    run_worker()

    subjects = [str(mail.message["Subject"]) for mail in smtp.received]
    assert len(subjects) == 2
    assert "Запись к врачу" in subjects[0] and "отменена" in subjects[1]
    assert not Event.objects.exists()
    # No reminder follows a cancelled appointment's confirmation.
    reminders.reminders_write(visit_time - datetime.timedelta(hours=1))
    assert not Message.objects.filter(kind__in=REMINDER_KINDS).exists()


def test_booking_for_a_child_tells_every_active_guardian_not_the_child(
    mother, father, daughter, slot_at, visit_time, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, daughter, slot_at(visit_time))

    booked = Message.objects.filter(appointment=appointment, kind=Kind.BOOKED)
    assert sorted(booked.values_list("address", flat=True)) == [
        "anna@example.ru",
        "ivan@example.ru",
    ]
    assert not Message.objects.filter(recipient=daughter).exists()
    to_father = booked.get(recipient=father)
    assert "Иванова М.И. записана к врачу." in to_father.text
    assert to_father.text.startswith("Здравствуйте, Иван Сергеевич!")


def test_an_unverified_guardian_hears_of_own_bookings_only(
    mother, father, daughter, slot_at, visit_time, django_capture_on_commit_callbacks
):
    # The father's guardianship is not confirmed yet: he sees only what he did himself.
    father.wards.update(verified_at=None)

    def recipients(appointment):
        rows = Message.objects.filter(appointment=appointment, kind=Kind.BOOKED)
        return set(rows.values_list("recipient", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        by_mother = book(mother, daughter, slot_at(visit_time))
    assert recipients(by_mother) == {mother.pk}

    booking.appointment_cancel(actor=mother.user, appointment=by_mother)
    with django_capture_on_commit_callbacks(execute=True):
        by_father = book(father, daughter, slot_at(visit_time + datetime.timedelta(days=1)))
    assert recipients(by_father) == {mother.pk, father.pk}


def test_an_ended_guardianship_hears_nothing(
    mother, father, daughter, slot_at, visit_time, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    father.wards.update(ended_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, daughter, slot_at(visit_time))

    assert set(
        Message.objects.filter(appointment=appointment).values_list("recipient", flat=True)
    ) == {mother.pk}


def test_preferences_turn_channels_and_reminders_off(
    settings, smtp, clock, mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    settings.SMPP_HOST = "127.0.0.1"  # SMS on for the portal, off for this patient
    Preference.objects.create(patient=mother, sms_enabled=False, reminders_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, mother, slot_at(visit_time))
    deliver_due(clock, visit_time - datetime.timedelta(hours=1))  # past both reminders

    rows = Message.objects.filter(appointment=appointment)
    # Read when the messages are written (a moment after the booking): no SMS, and no
    # reminder is planned; at send time they are asked again.
    assert [(m.kind, m.channel, m.status) for m in rows] == [
        (Kind.BOOKED, Channel.EMAIL, Status.SENT)
    ]
    assert len(smtp.received) == 1


def test_a_guardians_preferences_apply_when_the_rows_are_written(
    settings, mother, father, daughter, slot_at, visit_time, django_capture_on_commit_callbacks
):
    settings.SMPP_HOST = "127.0.0.1"
    Preference.objects.create(patient=father, sms_enabled=False, reminders_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, daughter, slot_at(visit_time))
    write_due_reminders(visit_time)

    to_father = Message.objects.filter(appointment=appointment, recipient=father)
    assert list(to_father.values_list("kind", "channel")) == [(Kind.BOOKED, Channel.EMAIL)]


# A short name that fits whatever the appointment's id (a reminder with «ГП № 7» and id 1
# is 121 of the two parts' 134 characters), and a long one the SMS must shorten.
@pytest.mark.parametrize(
    ("clinic_name", "shortened"),
    [
        ("ГП № 7", False),
        ("Городская клиническая поликлиника № 1027 имени Пирогова", True),
    ],
)
def test_sms_names_who_when_where_and_the_ticket_but_no_diagnosis_snils_or_policy(
    settings,
    mother,
    daughter,
    doctor,
    slot_at,
    visit_time,
    django_capture_on_commit_callbacks,
    clinic_name,
    shortened,
):
    settings.SMPP_HOST = "127.0.0.1"
    doctor.clinic.short_name = clinic_name
    doctor.clinic.save(update_fields=["short_name"])
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, daughter, slot_at(visit_time))
    write_due_reminders(visit_time)

    sms = Message.objects.filter(appointment=appointment, channel=Channel.SMS)
    assert sms.count() == 6  # two guardians × confirmation and two reminders
    doctor = appointment.slot.doctor
    for message in sms:
        assert message.address in {"79141234567", "79145550000"}
        assert sms_parts(message.text) <= SMS_MAX_PARTS
        assert appointment.ticket_number in message.text
        assert "каб. 214" in message.text
        assert "http://" in message.text
        assert message.text.endswith(f"/appointments/{appointment.pk}/")  # the link whole
        # The clinic closes the text before the link; an SMS over two parts loses its end
        # first (`texts.sms_fit`): the name whole, or its start and «…».
        where = message.text.rpartition(" http")[0].rpartition("каб. 214, ")[2].rstrip(".")
        if shortened:
            assert where.endswith("…") and len(where) > len("Городская")
            assert clinic_name.startswith(where.removesuffix("…"))
        else:
            assert where == clinic_name
        for secret in (
            daughter.snils,
            daughter.policy_number,
            doctor.specialty.name,
            doctor.last_name,
        ):
            assert secret not in message.text


def test_a_rolled_back_booking_writes_and_sends_nothing(
    monkeypatch, smtp, mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    real = polling.booked_event_written

    def written_then_fails(events):
        real(events)
        assert Event.objects.filter(pk__in=[e.pk for e in events]).exists()
        raise RuntimeError("the booking fails after its event was written")

    # The notifications hear of the booking inside its transaction (scheduling.events).
    monkeypatch.setattr(receivers, "booked_event_written", written_then_fails)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        book(mother, mother, slot_at(visit_time))

    assert not Message.objects.exists() and not Event.objects.exists()
    assert not DBTaskResult.objects.exists()
    sweep.outbox_sweep()
    run_worker()
    assert smtp.received == []


def test_cancelling_writes_the_cancellation_and_no_reminder_follows(
    mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, mother, slot_at(visit_time))
        booking.appointment_cancel(actor=mother.user, appointment=appointment)
    write_due_reminders(visit_time)

    rows = {m.kind: m for m in Message.objects.filter(appointment=appointment)}
    assert set(rows) == {Kind.BOOKED, Kind.CANCELLED}
    assert rows[Kind.CANCELLED].status == Status.QUEUED
    assert "Запись к врачу отменена" in rows[Kind.CANCELLED].text


def test_with_a_queue_outside_the_database_a_failing_enqueue_does_not_fail_the_booking(
    settings, monkeypatch, smtp, mother, slot_at, visit_time, django_capture_on_commit_callbacks
):
    """A backend outside the database is asked after the commit; the sweep covers a miss."""
    from datetime import timedelta

    from django.utils import timezone

    from portal.notifications import tasks

    queues = settings.TASKS["default"]["QUEUES"]
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": queues}
    }

    def broken(*args, **kwargs):
        raise RuntimeError("queue down")

    monkeypatch.setattr(type(tasks.deliver_messages), "enqueue", broken)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, mother, slot_at(visit_time))

    assert appointment.pk and Message.objects.filter(kind=Kind.BOOKED).exists()
    monkeypatch.undo()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": queues}}
    sweep.outbox_sweep(now=timezone.now() + timedelta(minutes=3))
    run_worker()
    assert len(smtp.received) == 1


def test_a_clinic_cancellation_gives_the_reason_by_email_and_sms(
    settings, mother, daughter, slot_at, visit_time, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from portal.scheduling.models import Appointment

    settings.SMPP_HOST = "127.0.0.1"
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, daughter, slot_at(visit_time))
        # What the clinic-side booking service will do in its own transaction.
        with transaction.atomic():
            Appointment.objects.filter(pk=appointment.pk).update(status="cancelled_clinic")
            notify.appointment_cancelled_by_clinic_notify(appointment, "врач на больничном")
    write_due_reminders(visit_time)

    rows = Message.objects.filter(appointment=appointment, kind=Kind.CANCELLED_BY_CLINIC)
    assert rows.count() == 4  # two guardians, e-mail and SMS
    # Issue 27: the reason is what the patient asks first; the SMS carries it too.
    for message in rows:
        assert "врач на больничном" in message.text
        if message.channel == Channel.EMAIL:
            assert "Поликлиника отменила запись" in message.text
        else:
            assert message.text.startswith("Приём (Иванова М.И.) отменён (врач на больничном)")
    assert not Message.objects.filter(appointment=appointment, kind__in=REMINDER_KINDS).exists()


def test_the_sweep_forgets_tasks_a_killed_worker_left_running_for_a_day():
    from datetime import timedelta

    from django.utils import timezone

    from portal.notifications.tasks import deliver_messages

    old, recent = deliver_messages.enqueue([1]), deliver_messages.enqueue([2])
    now = timezone.now()
    DBTaskResult.objects.filter(pk=old.id).update(
        status="RUNNING", started_at=now - timedelta(days=2)
    )
    DBTaskResult.objects.filter(pk=recent.id).update(
        status="RUNNING", started_at=now - timedelta(hours=1)
    )

    sweep.outbox_sweep()

    assert list(DBTaskResult.objects.values_list("pk", flat=True)) == [recent.db_result.pk]  # type: ignore[attr-defined]


def test_a_move_is_one_message_from_the_old_time_to_the_new_and_moves_the_reminders(
    mother, father, daughter, slot_at, visit_time, django_capture_on_commit_callbacks
):
    """Issue 27: a move used to send «отменена» and then «записана» (two e-mails, and
    twice the SMS parts); now each parent hears of it once, with both times."""
    with django_capture_on_commit_callbacks(execute=True):
        old = book(mother, daughter, slot_at(visit_time))
        later = slot_at(visit_time + datetime.timedelta(days=7))
        before = Message.objects.exclude(kind__in=REMINDER_KINDS).count()
        new = booking.appointment_reschedule(
            actor=mother.user, appointment=old, new_slot_id=later.pk, idempotency_key=uuid.uuid4()
        ).appointment
    write_due_reminders(visit_time)  # the old time's reminders would be due

    old_rows = Message.objects.filter(appointment=old)
    assert not old_rows.filter(kind=Kind.CANCELLED).exists()
    assert not old_rows.filter(kind__in=REMINDER_KINDS).exists()
    moved = Message.objects.filter(appointment=new, kind=Kind.MOVED)
    # One message per parent (each by e-mail only here), nothing else said now.
    assert sorted(moved.values_list("address", flat=True)) == [
        "anna@example.ru",
        "ivan@example.ru",
    ]
    assert Message.objects.exclude(kind__in=REMINDER_KINDS).count() - before == 2
    text = moved.get(recipient=mother).text
    assert "Запись к врачу (Иванова М.И.) перенесена с " in text
    assert old.slot.starts_at.astimezone(ZoneInfo("Asia/Irkutsk")).strftime("%d.%m.%Y") in text
    assert new.ticket_number in text
    assert f"/appointments/{new.pk}/" in text  # the new ticket itself, not a list
    assert not Message.objects.filter(appointment=new, kind__in=REMINDER_KINDS).exists()
    write_due_reminders(later.starts_at)
    new_kinds = sorted(Message.objects.filter(appointment=new).values_list("kind", flat=True))
    assert new_kinds.count(Kind.REMINDER_EVENING) == 2 and Kind.BOOKED not in new_kinds
