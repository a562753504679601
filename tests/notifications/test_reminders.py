"""Reminders on a fixed clock: when they are planned, and when they are not sent."""

import datetime

import pytest
from django.utils import timezone

from portal.notifications import services
from portal.notifications.models import Kind, Message, Preference, Status
from portal.scheduling.models import Appointment
from tests.factories import ChildFactory, GuardianshipFactory
from tests.notifications.conftest import book, local, run_worker

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


def deliver_due(clock, when):
    clock.now = when
    services.outbox_sweep()
    run_worker()


def day_after_tomorrow(today, hour, minute=0):
    return local(today + datetime.timedelta(days=2), hour, minute)


def test_reminders_come_the_evening_before_at_18_and_two_hours_before(
    today, mother, slot_at, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, mother, slot_at(day_after_tomorrow(today, 11)))

    planned = reminders(appointment)
    assert planned[Kind.REMINDER_EVENING].next_attempt_at == local(
        today + datetime.timedelta(days=1), 18
    )
    assert planned[Kind.REMINDER_SOON].next_attempt_at == day_after_tomorrow(today, 9)


def test_a_reminder_due_in_the_quiet_hours_moves_to_eight_or_is_not_planned(
    today, mother, father, slot_at, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        at_nine = book(mother, mother, slot_at(day_after_tomorrow(today, 9)))
        at_eight_twenty = book(father, father, slot_at(day_after_tomorrow(today, 8, 20)))

    # 07:00 is quiet: 08:00 is still an hour before the visit.
    assert reminders(at_nine)[Kind.REMINDER_SOON].next_attempt_at == day_after_tomorrow(today, 8)
    # 06:20 is quiet and 08:00 would be too late: only the evening reminder.
    assert list(reminders(at_eight_twenty)) == [Kind.REMINDER_EVENING]


def test_the_evening_reminder_goes_out_when_due(
    today, smtp, clock, mother, slot_at, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        book(mother, mother, slot_at(day_after_tomorrow(today, 11)))
    run_worker()
    assert len(smtp.received) == 1  # the confirmation

    deliver_due(clock, local(today + datetime.timedelta(days=1), 17, 59))
    assert len(smtp.received) == 1
    deliver_due(clock, local(today + datetime.timedelta(days=1), 18, 0))
    assert len(smtp.received) == 2
    assert "завтра" in smtp.received[1].message.get_body(("plain",)).get_content()


def test_no_reminder_for_an_appointment_cancelled_after_it_was_planned(
    today, smtp, clock, mother, slot_at, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, mother, slot_at(day_after_tomorrow(today, 11)))
    run_worker()
    # Cancelled by a path that did not withdraw the reminders: the send-time check holds.
    Appointment.objects.filter(pk=appointment.pk).update(status="cancelled_clinic")

    deliver_due(clock, local(today + datetime.timedelta(days=1), 18, 1))
    deliver_due(clock, day_after_tomorrow(today, 9, 1))

    assert len(smtp.received) == 1  # the confirmation only
    planned = reminders(appointment)
    assert {m.status for m in planned.values()} == {Status.SKIPPED}
    assert planned[Kind.REMINDER_EVENING].error == "Запись отменена"


def test_a_reminder_overdue_into_the_quiet_hours_waits_for_eight(
    today, smtp, clock, mother, slot_at, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, mother, slot_at(day_after_tomorrow(today, 11)))
    run_worker()

    # The workers were down all evening; the sweep finds the reminder at 23:30.
    deliver_due(clock, local(today + datetime.timedelta(days=1), 23, 30))
    assert len(smtp.received) == 1
    evening = reminders(appointment)[Kind.REMINDER_EVENING]
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

    deliver_due(clock, local(today + datetime.timedelta(days=1), 22, 30))
    evening = reminders(appointment)[Kind.REMINDER_EVENING]
    assert evening.status == Status.SKIPPED
    assert "тихие часы" in evening.error
    assert len(smtp.received) == 1


def test_reminders_turned_off_after_booking_are_not_sent(
    today, smtp, clock, mother, slot_at, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(mother, mother, slot_at(day_after_tomorrow(today, 11)))
    run_worker()
    services.preference_save(
        patient=mother, email_enabled=True, sms_enabled=True, reminders_enabled=False
    )

    deliver_due(clock, local(today + datetime.timedelta(days=1), 18, 1))

    assert len(smtp.received) == 1
    assert reminders(appointment)[Kind.REMINDER_EVENING].error == (
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
    rows = Message.objects.filter(appointment=appointment)
    assert {m.status for m in rows} == {Status.SKIPPED}
