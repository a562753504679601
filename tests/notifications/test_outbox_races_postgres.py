"""On PostgreSQL: sweeps and workers racing over the same due reminders, and over the same
bookings' events, tell each patient once (issue 25; real threads, one connection each).

The controls take the row lock away and show the race is real: then every racer does
the same work, only the unique dedupe key keeps one row each; take the key away as well
and the patient is reminded twice. So the main tests can fail.
"""

import datetime
import threading
import time
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from portal.notifications import delivery, polling, reminders
from portal.notifications.models import Event, Kind, Message, Status
from portal.scheduling.models import Appointment, Slot
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory, SlotFactory
from tests.notifications.conftest import local
from tests.races import run_at_once

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
RACERS = 4
VISITS = 30


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED needs PostgreSQL; the SQLite default runs one worker")


@pytest.fixture(autouse=True)
def _email_only(settings):
    settings.SMPP_HOST = ""


@pytest.fixture
def today(clock) -> datetime.date:
    day = timezone.localdate()
    clock.now = local(day, 12)
    return day


@pytest.fixture
def booked(today) -> list[Appointment]:
    """VISITS patients, each booked tomorrow from 11:00 (one event each, as a booking
    writes it): every evening reminder falls due today at 18:00."""
    doctor = DoctorFactory()
    start = local(today + datetime.timedelta(days=1), 11)
    appointments: list[Appointment] = []
    for n in range(VISITS):
        starts_at = start + datetime.timedelta(minutes=20 * n)
        slot = SlotFactory(
            doctor=doctor,
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(minutes=20),
            opens_at=starts_at - datetime.timedelta(days=14),
            status=Slot.Status.BOOKED,
        )
        patient = PatientFactory(clinic=doctor.clinic, email=f"p{n}@example.ru")
        appointment = AppointmentFactory(slot=slot, patient=patient, booked_by=patient.user)
        Event.objects.create(kind=Kind.BOOKED, appointment=appointment, created_at=timezone.now())
        appointments.append(appointment)
    return appointments


class Tally:
    """What each racer did, counted across threads."""

    def __init__(self) -> None:
        self.counts: Counter[object] = Counter()
        self.lock = threading.Lock()

    def add(self, key: object) -> None:
        with self.lock:
            self.counts[key] += 1


@pytest.fixture
def written(monkeypatch) -> Tally:
    """Every reminder a racer builds (before the database decides whether it is new)."""
    tally, real = Tally(), reminders._reminder

    def counted(confirmation, kind, at):
        row = real(confirmation, kind, at)
        tally.add(row.dedupe_key)
        return row

    monkeypatch.setattr(reminders, "_reminder", counted)
    return tally


@pytest.fixture
def sent(monkeypatch) -> Tally:
    """A gateway that counts what it is given (slow enough for the workers to overlap)."""
    tally = Tally()

    def send(message):
        time.sleep(0.002)
        tally.add(message.dedupe_key)
        return [f"<{message.pk}@test>"]

    monkeypatch.setattr(delivery, "message_send", send)
    return tally


def evening_reminders():
    return Message.objects.filter(kind=Kind.REMINDER_EVENING)


def test_racing_sweeps_write_each_due_reminder_once_and_racing_workers_send_it_once(
    today, clock, booked, written, sent
):
    polling.events_fan_out(limit=VISITS)  # the confirmations, each with its evening due
    clock.now = local(today, 18, 5)

    outcomes = run_at_once([reminders.reminders_write] * RACERS)
    assert not [o for o in outcomes if isinstance(o, str)]  # no racer failed
    assert sum(outcomes) == VISITS
    assert set(written.counts.values()) == {1}  # the lock: no racer redid another's work
    assert evening_reminders().count() == VISITS
    # Each confirmation now waits for the morning's reminder.
    confirmations = Message.objects.filter(kind=Kind.BOOKED)
    assert all(m.reminder_due_at > clock.now for m in confirmations)

    due = list(evening_reminders().values_list("pk", flat=True))
    outcomes = run_at_once([lambda: delivery.messages_deliver(due)] * RACERS)
    assert sum(outcomes) == VISITS
    assert len(sent.counts) == VISITS and set(sent.counts.values()) == {1}
    assert set(evening_reminders().values_list("status", flat=True)) == {Status.SENT}


def test_control_without_the_lock_every_sweep_writes_the_same_reminders(
    today, clock, booked, written, monkeypatch
):
    polling.events_fan_out(limit=VISITS)
    clock.now = local(today, 18, 5)

    def take_without_lock(now, batch):
        rows = list(
            Message.objects.filter(reminder_due_at__lte=now)
            .order_by("reminder_due_at", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        time.sleep(0.05)  # what every racer read is still true for the others
        return rows

    monkeypatch.setattr(reminders, "confirmations_take", take_without_lock)
    run_at_once([reminders.reminders_write] * RACERS)

    assert max(written.counts.values()) > 1  # the race is real: the same work done twice
    assert evening_reminders().count() == VISITS  # only the unique key kept one each

    # And with the key's uniqueness gone too (a key per racer), patients are told twice.
    evening_reminders().delete()
    Message.objects.filter(kind=Kind.BOOKED).update(reminder_due_at=local(today, 18))
    real = reminders._reminder

    def keyed_per_racer(confirmation, kind, at):
        row = real(confirmation, kind, at)
        row.dedupe_key += f":{threading.get_ident()}"
        return row

    monkeypatch.setattr(reminders, "_reminder", keyed_per_racer)
    run_at_once([reminders.reminders_write] * RACERS)
    assert evening_reminders().count() > VISITS


def test_racing_workers_write_each_bookings_messages_once(booked, monkeypatch):
    tally, real = Tally(), polling._messages_of

    def counted(kind, appointment, at):
        tally.add(appointment.pk)
        return real(kind, appointment, at)

    monkeypatch.setattr(polling, "_messages_of", counted)
    run_at_once([lambda: polling.events_fan_out(limit=10)] * RACERS)
    run_at_once([lambda: polling.events_fan_out(limit=10)] * RACERS)  # the rest

    assert set(tally.counts.values()) == {1} and len(tally.counts) == VISITS
    assert Message.objects.filter(kind=Kind.BOOKED).count() == VISITS
    assert not Event.objects.exists()


def test_control_without_the_lock_every_worker_writes_the_same_bookings_messages(
    booked, monkeypatch
):
    tally, real = Tally(), polling._messages_of

    def counted(kind, appointment, at):
        tally.add(appointment.pk)
        return real(kind, appointment, at)

    def take_without_lock(limit, ids=None):
        rows = list(
            Event.objects.order_by("pk").values_list("pk", "kind", "appointment_id", "created_at")[
                :limit
            ]
        )
        time.sleep(0.05)
        return rows

    monkeypatch.setattr(polling, "_messages_of", counted)
    monkeypatch.setattr(polling, "events_take", take_without_lock)
    run_at_once([lambda: polling.events_fan_out(limit=VISITS)] * RACERS)

    assert max(tally.counts.values()) > 1  # the race is real
    assert Message.objects.filter(kind=Kind.BOOKED).count() == VISITS  # the unique key
