"""Reminders on a fixed clock: when they are written and sent, and when they are not.

A booking writes only its confirmation; each reminder's rows are written by the sweep
when it falls due (issue 25), at the same times as before.
"""

import datetime
import uuid

import pytest
from django.utils import timezone

from portal.notifications import services
from portal.notifications.models import Kind, Message, Preference, Status
from portal.scheduling import services as booking
from portal.scheduling.models import Appointment
from tests.factories import ChildFactory, GuardianshipFactory, PatientFactory
from tests.notifications.conftest import book, deliver_due, local, run_worker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("email_only")]


@pytest.fixture
def today(clock) -> datetime.date:
    """Noon, today, in Irkutsk; the visits are the day after tomorrow."""
    day = timezone.localdate()
    clock.now = local(day, 12)
    return day


def reminders(appointment):
    rows = Message.objects.filter(
        appointment=appointment, kind__in=[Kind.REMINDER_EVENING, Kind.REMINDER_SOON]
    )
    return {m.kind: m for m in rows}


def day_after_tomorrow(today, hour, minute=0):
    return local(today + datetime.timedelta(days=2), hour, minute)


def tomorrow(today, hour, minute=0):
    return local(today + datetime.timedelta(days=1), hour, minute)


def bodies(smtp):
    return [mail.message.get_body(("plain",)).get_content() for mail in smtp.received]


@pytest.fixture
def booked_at_eleven(today, mother, slot_at, django_capture_on_commit_callbacks):
    """Anna books for the day after tomorrow at 11:00; the confirmation goes out."""
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, mother, slot_at(day_after_tomorrow(today, 11)))
    run_worker()
    return appointment


def test_reminders_come_the_evening_before_at_18_and_two_hours_before(
    today, smtp, clock, booked_at_eleven
):
    assert len(smtp.received) == 1  # the confirmation
    assert reminders(booked_at_eleven) == {}  # nothing written for later

    deliver_due(clock, tomorrow(today, 17, 59))
    assert len(smtp.received) == 1 and reminders(booked_at_eleven) == {}
    deliver_due(clock, tomorrow(today, 18, 0))
    assert len(smtp.received) == 2
    assert "завтра" in bodies(smtp)[1]
    evening = reminders(booked_at_eleven)[Kind.REMINDER_EVENING]
    assert evening.next_attempt_at == tomorrow(today, 18)
    assert evening.status == Status.SENT and evening.address == "anna@example.ru"

    deliver_due(clock, day_after_tomorrow(today, 8, 59))
    assert len(smtp.received) == 2
    deliver_due(clock, day_after_tomorrow(today, 9, 0))
    assert len(smtp.received) == 3
    assert "через 2 часа" in bodies(smtp)[2]
    assert reminders(booked_at_eleven)[Kind.REMINDER_SOON].next_attempt_at == (
        day_after_tomorrow(today, 9)
    )


def test_a_reminder_is_written_once_however_often_the_sweep_runs(
    today, smtp, clock, booked_at_eleven
):
    for minute in (0, 0, 1, 2):
        deliver_due(clock, tomorrow(today, 18, minute))

    assert len(smtp.received) == 2
    assert Message.objects.filter(kind=Kind.REMINDER_EVENING).count() == 1


def test_a_reminder_due_in_the_quiet_hours_moves_to_eight_or_is_not_sent(
    today, smtp, clock, mother, father, slot_at, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        at_nine = book(mother, mother, slot_at(day_after_tomorrow(today, 9)))
        at_eight_twenty = book(father, father, slot_at(day_after_tomorrow(today, 8, 20)))
    run_worker()
    deliver_due(clock, tomorrow(today, 18))
    smtp.received.clear()

    # 07:00 is quiet: 08:00 is still an hour before the visit.
    deliver_due(clock, day_after_tomorrow(today, 7, 0))
    assert smtp.received == []
    deliver_due(clock, day_after_tomorrow(today, 8, 0))
    assert [mail.rcpt_tos for mail in smtp.received] == [["anna@example.ru"]]
    assert reminders(at_nine)[Kind.REMINDER_SOON].next_attempt_at == day_after_tomorrow(today, 8)
    # 06:20 is quiet and 08:00 would be too late: only the evening reminder.
    assert list(reminders(at_eight_twenty)) == [Kind.REMINDER_EVENING]


def test_no_evening_reminder_when_booked_after_it(
    today, smtp, clock, mother, slot_at, django_capture_on_commit_callbacks
):
    clock.now = tomorrow(today, 20)  # booked at 20:00 for tomorrow: the confirmation says it
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, mother, slot_at(day_after_tomorrow(today, 11)))
    for when in (tomorrow(today, 20, 1), tomorrow(today, 21), day_after_tomorrow(today, 9)):
        deliver_due(clock, when)

    assert list(reminders(appointment)) == [Kind.REMINDER_SOON]
    assert len(smtp.received) == 2


def test_no_reminder_after_the_patient_cancelled(today, smtp, clock, mother, booked_at_eleven):
    booking.appointment_cancel(actor=mother.user, appointment=booked_at_eleven)
    run_worker()
    assert len(smtp.received) == 2  # the confirmation and the cancellation

    deliver_due(clock, tomorrow(today, 18, 1))
    deliver_due(clock, day_after_tomorrow(today, 9, 1))

    assert len(smtp.received) == 2
    assert reminders(booked_at_eleven) == {}


@pytest.mark.parametrize("ended", ["cancelled_clinic", "attended"])
def test_no_reminder_for_an_appointment_that_ended_by_another_path(
    ended, today, smtp, clock, booked_at_eleven
):
    # Cancelled by the clinic, or marked attended: whatever ends it, no reminder follows.
    Appointment.objects.filter(pk=booked_at_eleven.pk).update(status=ended)

    deliver_due(clock, tomorrow(today, 18, 1))
    deliver_due(clock, day_after_tomorrow(today, 9, 1))

    assert len(smtp.received) == 1  # the confirmation only
    assert reminders(booked_at_eleven) == {}


def test_a_reminder_written_then_cancelled_before_it_went_out_is_skipped(
    today, smtp, clock, mother, booked_at_eleven
):
    from portal.notifications import reminders as reminders_job

    reminders_job.reminders_write(tomorrow(today, 18))  # written; no worker ran yet
    booking.appointment_cancel(actor=mother.user, appointment=booked_at_eleven)
    deliver_due(clock, tomorrow(today, 18, 1))

    evening = reminders(booked_at_eleven)[Kind.REMINDER_EVENING]
    assert evening.status == Status.SKIPPED and evening.error == "Запись отменена"
    assert "Напоминаем" not in " ".join(bodies(smtp))


def test_a_moved_appointment_is_reminded_at_its_new_time(
    today, smtp, clock, mother, slot_at, booked_at_eleven
):
    new_slot = slot_at(local(today + datetime.timedelta(days=4), 15))
    moved = booking.appointment_reschedule(
        actor=mother.user,
        appointment=booked_at_eleven,
        new_slot_id=new_slot.pk,
        idempotency_key=uuid.uuid4(),
    ).appointment
    run_worker()
    smtp.received.clear()

    # The old time's evening and morning pass in silence.
    deliver_due(clock, tomorrow(today, 18, 1))
    deliver_due(clock, day_after_tomorrow(today, 9, 1))
    assert smtp.received == []
    assert reminders(booked_at_eleven) == {}

    deliver_due(clock, local(today + datetime.timedelta(days=3), 18))
    deliver_due(clock, local(today + datetime.timedelta(days=4), 13))
    assert len(smtp.received) == 2
    new_day = new_slot.starts_at.astimezone(local(today, 0).tzinfo).strftime("%d.%m.%Y")
    assert all(new_day in body and "15:00" in body for body in bodies(smtp))
    assert set(reminders(moved)) == {Kind.REMINDER_EVENING, Kind.REMINDER_SOON}


def test_a_reminder_overdue_into_the_quiet_hours_waits_for_eight(
    today, smtp, clock, booked_at_eleven
):
    # The sweep and the workers were down all evening; the sweep runs again at 23:30.
    deliver_due(clock, tomorrow(today, 23, 30))
    assert len(smtp.received) == 1
    evening = reminders(booked_at_eleven)[Kind.REMINDER_EVENING]
    assert evening.status == Status.QUEUED
    assert evening.next_attempt_at == day_after_tomorrow(today, 8)

    deliver_due(clock, day_after_tomorrow(today, 7, 59))
    assert len(smtp.received) == 1
    deliver_due(clock, day_after_tomorrow(today, 8, 0))
    assert len(smtp.received) == 2


def test_a_reminder_that_would_come_too_late_after_the_quiet_hours_is_skipped(
    today, smtp, clock, mother, slot_at, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, mother, slot_at(day_after_tomorrow(today, 8, 20)))
    run_worker()

    deliver_due(clock, tomorrow(today, 22, 30))
    evening = reminders(appointment)[Kind.REMINDER_EVENING]
    assert evening.status == Status.SKIPPED
    assert "тихие часы" in evening.error
    assert len(smtp.received) == 1


def test_reminders_turned_off_after_booking_are_not_sent(
    today, smtp, clock, mother, booked_at_eleven
):
    services.preference_save(
        patient=mother, email_enabled=True, sms_enabled=True, reminders_enabled=False
    )

    deliver_due(clock, tomorrow(today, 18, 1))

    assert len(smtp.received) == 1
    assert reminders(booked_at_eleven)[Kind.REMINDER_EVENING].error == (
        "Напоминания отключены получателем"
    )


def test_guardians_hear_once_that_a_child_turns_14_within_30_days(today, mother, father):
    soon = ChildFactory(
        birth_date=today.replace(year=today.year - 14) + datetime.timedelta(days=20)
    )
    later = ChildFactory(
        birth_date=today.replace(year=today.year - 14) + datetime.timedelta(days=40),
        policy_number="7777000011112222",
    )
    for kid in (soon, later):
        GuardianshipFactory(guardian=mother, child=kid)
    GuardianshipFactory(guardian=father, child=soon)

    assert services.coming_of_age_notify(today) == 2
    assert services.coming_of_age_notify(today) == 0  # the next sweep adds nothing

    rows = Message.objects.filter(kind=Kind.COMING_OF_AGE)
    assert sorted(rows.values_list("address", flat=True)) == ["anna@example.ru", "ivan@example.ru"]
    assert all(m.patient_id == soon.pk for m in rows)
    assert "исполнится 14 лет" in rows[0].text


def test_a_child_with_an_account_of_their_own_is_told_too(today, mother, settings):
    """A region that lets Gosuslugi accounts in before 14 (ESIA_MIN_AGE) has children
    who log in themselves: the news is theirs as much as their parents'."""
    settings.ESIA_MIN_AGE = 12
    teen = PatientFactory(
        birth_date=today.replace(year=today.year - 14) + datetime.timedelta(days=10),
        email="teen@example.ru",
        phone="",
        policy_number="7777000011113333",
    )
    GuardianshipFactory(guardian=mother, child=teen)

    assert services.coming_of_age_notify(today) == 2
    assert services.coming_of_age_notify(today) == 0

    own = Message.objects.get(kind=Kind.COMING_OF_AGE, recipient=teen)
    assert own.address == "teen@example.ru"
    assert "вам исполнится 14 лет" in own.text and "записываетесь к врачу сами" in own.text


def test_the_coming_of_age_notice_waits_out_the_quiet_hours(today, clock, mother):
    clock.now = local(today, 23)
    GuardianshipFactory(
        guardian=mother,
        child=ChildFactory(
            birth_date=today.replace(year=today.year - 14) + datetime.timedelta(days=5)
        ),
    )
    services.coming_of_age_notify(today)
    assert Message.objects.get().next_attempt_at == local(today + datetime.timedelta(days=1), 8)


def test_email_turned_off_means_nothing_is_mailed(
    today, smtp, clock, mother, slot_at, django_capture_on_commit_callbacks
):
    Preference.objects.create(patient=mother, email_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, mother, slot_at(day_after_tomorrow(today, 11)))
    for when in (
        clock.now,
        local(today + datetime.timedelta(days=1), 18),
        day_after_tomorrow(today, 9),
    ):
        deliver_due(clock, when)

    assert smtp.received == []
    assert not Message.objects.filter(appointment=appointment).exists()
