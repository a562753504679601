import datetime
import uuid
from collections.abc import Callable, Iterator
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from portal.notifications import channels, polling
from portal.notifications.devsink import LocalController, MailboxHandler
from portal.patients.models import Patient
from portal.scheduling import services as booking
from portal.scheduling.models import Appointment, Slot
from tests.factories import (
    ChildFactory,
    DoctorFactory,
    GuardianshipFactory,
    PatientFactory,
    SlotFactory,
    SpecialtyFactory,
)

IRKUTSK = ZoneInfo("Asia/Irkutsk")


class SmtpServer:
    """aiosmtpd on 127.0.0.1 (any free port) that can be stopped and started again."""

    def __init__(self, handler: MailboxHandler) -> None:
        self.handler = handler
        self.port = 0
        self.controller: LocalController | None = None

    def start(self) -> None:
        self.controller = LocalController(self.handler, "127.0.0.1", self.port)
        self.controller.start()
        self.port = self.controller.port

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
        channels.smtp_close()

    @property
    def received(self):
        return self.handler.received


@pytest.fixture
def smtp(settings, tmp_path) -> Iterator[SmtpServer]:
    server = SmtpServer(MailboxHandler(directory=tmp_path / "mailbox"))
    server.start()
    settings.NOTIFICATIONS_EMAIL_BACKEND = "portal.notifications.smtp_backend.EightBitMimeBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_TIMEOUT = 5
    channels.smtp_reset()
    yield server
    server.stop()


@pytest.fixture
def email_only(settings):
    """E-mail tests see no SMS rows; SMS tests switch the channel on themselves."""
    settings.SMPP_HOST = ""


class Clock:
    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now

    def travel(self, **delta: float) -> None:
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """A fixed clock for the portal and the task queue alike (both ask timezone.now)."""
    fixed = Clock(timezone.now().replace(microsecond=0))
    monkeypatch.setattr(timezone, "now", fixed)
    return fixed


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=IRKUTSK)


@pytest.fixture
def doctor(db):
    return DoctorFactory(
        specialty=SpecialtyFactory(code="ophthalmologist", name="Офтальмолог"),
        last_name="Зорина",
        first_name="Ольга",
        room="214",
    )


@pytest.fixture
def slot_at(doctor) -> Callable[[datetime.datetime], object]:
    def make(starts_at: datetime.datetime):
        return SlotFactory(
            doctor=doctor,
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(minutes=20),
            opens_at=starts_at - datetime.timedelta(days=14),
        )

    return make


@pytest.fixture
def visit_time() -> datetime.datetime:
    """The day after tomorrow at 10:00 in Irkutsk: both reminders fit."""
    return local(timezone.localdate() + datetime.timedelta(days=2), 10)


@pytest.fixture
def mother(db, doctor) -> Patient:
    return PatientFactory(
        clinic=doctor.clinic,
        email="anna@example.ru",
        phone="+7(914)1234567",
    )


@pytest.fixture
def father(db, doctor) -> Patient:
    return PatientFactory(
        clinic=doctor.clinic,
        last_name="Иванов",
        first_name="Иван",
        middle_name="Сергеевич",
        sex="M",
        email="ivan@example.ru",
        phone="+79145550000",
    )


@pytest.fixture
def daughter(mother, father, doctor) -> Patient:
    kid = ChildFactory(
        clinic=doctor.clinic,
        birth_date=timezone.localdate() - datetime.timedelta(days=365 * 8),
        snils="123-456-789 64",
    )
    GuardianshipFactory(guardian=mother, child=kid)
    GuardianshipFactory(guardian=father, child=kid, source="esia")
    return kid


def book(actor_patient: Patient, patient: Patient, slot: Slot) -> Appointment:
    """Book, and let the outbox write the booking's messages as the first polling worker
    does a moment later (the booking itself writes one `Event`, issue 25)."""
    assert actor_patient.user is not None, "the booking actor holds an account"
    appointment = booking.appointment_book(
        actor=actor_patient.user, patient=patient, slot_id=slot.pk, idempotency_key=uuid.uuid4()
    ).appointment
    polling.events_fan_out()
    return appointment


def run_worker() -> None:
    """The workers of `make run`, in batch mode: run every ready task of every queue
    (e-mail's included) and every due message of the outbox, then return.

    The worker closes "old" connections between tasks; inside a test's transaction that
    would close the test's own connection (PostgreSQL), so that one call is a no-op here.
    """
    with mock.patch("portal.core.management.commands.tasks_worker.close_old_connections"):
        call_command(
            "tasks_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0
        )


def deliver_due(clock: Clock, when: datetime.datetime) -> None:
    """At ``when``: a round of the sweep (it writes the reminders that fell due and
    enqueues them), then the workers."""
    from portal.notifications import sweep

    clock.now = when
    sweep.outbox_sweep()
    run_worker()


@pytest.fixture
def make_visits(visit_time) -> Callable[[int], list[datetime.datetime]]:
    """``n`` visit times on the same good day, 30 minutes apart."""

    def make(n: int) -> list[datetime.datetime]:
        return [visit_time + datetime.timedelta(minutes=30 * i) for i in range(n)]

    return make
