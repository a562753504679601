"""Several workers on PostgreSQL never take the same message (real threads, one
connection each). The control test swaps in a claim without the row lock and shows
the race is real, so the main test can fail."""

import threading
import time
from collections import Counter

import pytest
from django.db import connection, connections
from django.utils import timezone

from portal.notifications import delivery
from portal.notifications.models import Message, Status
from tests.factories import PatientFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
WORKERS = 6
MESSAGES = 60


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED needs PostgreSQL; the SQLite default runs one worker")


@pytest.fixture
def queued() -> list[int]:
    recipient = PatientFactory(email="anna@example.ru")
    now = timezone.now()
    rows = Message.objects.bulk_create(
        Message(
            patient=recipient,
            recipient=recipient,
            channel="email",
            kind="booked",
            address=recipient.email,
            text=f"сообщение {n}",
            next_attempt_at=now,
            dedupe_key=f"test:{n}",
        )
        for n in range(MESSAGES)
    )
    return [m.pk for m in rows]


@pytest.fixture
def sent(monkeypatch) -> Counter[int]:
    """A gateway that counts what it is given (slow enough for the workers to overlap)."""
    counts: Counter[int] = Counter()
    lock = threading.Lock()

    def send(message):
        time.sleep(0.002)
        with lock:
            counts[message.pk] += 1
        return [f"<{message.pk}@test>"]

    monkeypatch.setattr(delivery, "message_send", send)
    return counts


def run_workers(ids: list[int]) -> None:
    """Every worker is handed every id at the same moment, as duplicate tasks would."""
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            for start in range(0, len(ids), 10):
                delivery.messages_deliver(ids[start : start + 10])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []


def test_parallel_workers_send_every_message_exactly_once(queued, sent):
    run_workers(queued)

    assert sorted(sent) == sorted(queued)
    assert set(sent.values()) == {1}
    assert set(Message.objects.values_list("status", flat=True)) == {Status.SENT}


def test_control_without_the_row_lock_the_same_message_is_taken_twice(queued, sent, monkeypatch):
    def claim_without_lock(ids, now):
        rows = list(Message.objects.filter(pk__in=ids, status=Status.QUEUED).order_by("pk"))
        time.sleep(0.01)  # what every worker read is still true for the others
        # One row per statement, autocommit: a multi-row UPDATE here can lock the rows in a
        # different order than a neighbour's and deadlock, which hides the double send.
        for message in rows:
            Message.objects.filter(pk=message.pk).update(status=Status.SENDING)
        return rows

    monkeypatch.setattr(delivery, "messages_claim", claim_without_lock)
    run_workers(queued)

    assert max(sent.values()) > 1
