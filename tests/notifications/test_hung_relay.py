"""A relay that accepts the connection and then never answers (issue 24, point 9).

Before: each e-mail waited twice for the relay (the attempt, then a fresh session), so a
batch of e-mails held its worker for minutes, and the SMS queued behind them waited too.
Now the first timeout rests the relay for the batch and e-mail has its own queue.
"""

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from portal.notifications import channels
from portal.notifications.delivery import EMAIL_QUEUE
from portal.notifications.devsink import LocalController, RecordingHandler
from portal.notifications.models import Channel, Kind, Message, Status
from tests.factories import PatientFactory
from tests.notifications.conftest import book, run_worker
from tests.notifications.test_sms_outbox import smsc  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


class SilentRelay:
    """Accepts TCP connections and never says a word (a relay hung before its greeting)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


class StallingHandler(RecordingHandler):
    """Greets and answers EHLO, then never answers MAIL FROM (hung mid-session)."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions = 0
        self.release = asyncio.Event()

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        await self.release.wait()
        return "421 closing"


@pytest.fixture
def silent_relay(settings, smtp) -> Iterator[SilentRelay]:
    relay = SilentRelay()
    settings.EMAIL_PORT = relay.port
    settings.EMAIL_TIMEOUT = 1
    channels.smtp_reset()
    yield relay
    relay.close()
    channels.smtp_reset()


@pytest.fixture
def stalling_relay(settings, smtp) -> Iterator[StallingHandler]:
    handler = StallingHandler()
    controller = LocalController(handler, "127.0.0.1", 0)
    controller.start()
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_TIMEOUT = 1
    channels.smtp_reset()
    yield handler
    controller.loop.call_soon_threadsafe(handler.release.set)
    controller.stop()
    channels.smtp_reset()


def _book_three(mother, slot_at, make_visits, capture) -> None:
    people = [PatientFactory(email=f"p{n}@example.ru", clinic=mother.clinic) for n in range(3)]
    with capture(execute=True):
        for person, when in zip(people, make_visits(3), strict=True):
            book(person, person, slot_at(when))


def _emails():
    return Message.objects.filter(channel=Channel.EMAIL, kind=Kind.BOOKED)


@pytest.mark.usefixtures("email_only")
def test_a_relay_silent_before_its_greeting_costs_one_wait_per_batch_not_two_per_mail(
    silent_relay, mother, slot_at, make_visits, django_capture_on_commit_callbacks
):
    _book_three(mother, slot_at, make_visits, django_capture_on_commit_callbacks)

    run_worker()

    assert len(silent_relay.accepted) == 1  # was 6: two sessions for each of three e-mails
    waiting = _emails()
    assert {m.status for m in waiting} == {Status.QUEUED}
    assert all("SMTP не отвечает" in m.error for m in waiting)


@pytest.mark.usefixtures("email_only")
def test_a_relay_hung_mid_session_is_not_asked_again_for_the_rest_of_the_batch(
    stalling_relay, mother, slot_at, make_visits, django_capture_on_commit_callbacks
):
    _book_three(mother, slot_at, make_visits, django_capture_on_commit_callbacks)

    run_worker()

    assert stalling_relay.sessions == 1  # was 6
    assert {m.status for m in _emails()} == {Status.QUEUED}


def test_text_messages_go_out_while_the_mail_relay_hangs(
    smsc,  # noqa: F811
    silent_relay,
    mother,
    slot_at,
    visit_time,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        book(mother, mother, slot_at(visit_time))
    assert not DBTaskResult.objects.exists()  # no task: the workers poll the outbox

    # The worker of every queue but e-mail's, as `make run` and the systemd units run it:
    # it takes the SMS rows of the outbox, never the e-mails.
    with mock.patch("portal.core.management.commands.tasks_worker.close_old_connections"):
        call_command(
            "tasks_worker",
            "--batch",
            "--no-startup-delay",
            "--queue-name",
            "*",
            "--exclude-queues",
            EMAIL_QUEUE,
            verbosity=0,
        )

    sms = Message.objects.get(channel=Channel.SMS, kind=Kind.BOOKED)
    assert sms.status in (Status.SENT, Status.DELIVERED)
    assert silent_relay.accepted == []  # e-mail's worker alone meets the hung relay
    assert _emails().get().status == Status.QUEUED
