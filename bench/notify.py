"""Notifications phase of `make bench` (issue 12), also runnable alone:

    uv run python -m bench.notify        # on the bench database, like `make bench`

1. The outbox's cost to booking: the same booking service, in this process, with and
   without the outbox's row (a booking writes one `Event`; a polling worker writes the
   confirmation by e-mail and SMS, and the reminders when due: issue 25), and with the
   confirmation's messages and a task row written in the booking instead (the design
   before), alternating booking by booking in one run (each round of three in a random
   order) so drift and neighbours hit all alike; medians compared. Target: under 10 %.
2. One worker's delivery rate: queued messages, one task each (as bookings enqueue them)
   and 50 per task (a backlog, as the sweep enqueues it), drained by one
   `manage.py db_worker` process into a local SMTP sink (aiosmtpd) and the SMSC emulator.
"""

import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
BOOKINGS = int(os.environ.get("BENCH_NOTIFY_BOOKINGS", "600"))
WARM_UP = 10
MESSAGES = int(os.environ.get("BENCH_NOTIFY_MESSAGES", "400"))
Log = Callable[[str], None]


def outbox_clear() -> None:
    from bench.dataset import outbox_clear as clear  # Django models: imported after setup

    clear()


@dataclass
class NotifyResult:
    with_rows: list[float] = field(default_factory=list)  # seconds per booking
    without_rows: list[float] = field(default_factory=list)
    with_task: list[float] = field(default_factory=list)  # messages + a task row, in booking
    rows_per_booking: float = 0.0
    email_per_second: float = 0.0
    sms_per_second: float = 0.0
    backlog_per_second: float = 0.0  # e-mails, 50 per task as the sweep enqueues a backlog
    email_count: int = 0
    sms_count: int = 0

    @property
    def cost(self) -> float:
        """Extra time per booking, from medians: the shared machine's noise hits the mean."""
        return statistics.median(self.with_rows) / statistics.median(self.without_rows) - 1

    @property
    def cost_with_task(self) -> float:
        return statistics.median(self.with_task) / statistics.median(self.without_rows) - 1

    @staticmethod
    def per_second(times: list[float]) -> float:
        return 1 / statistics.median(times) if times else 0.0


def _rotated(modes: list[str], count: int) -> list[str]:
    """``count`` modes, each round of them in a random order (fixed seed)."""
    rng = random.Random(7)
    order: list[str] = []
    while len(order) < count:
        order += rng.sample(modes, len(modes))
    return order[:count]


def booking_cost(patients, slot_ids: list[int], log: Log) -> NotifyResult:
    """Bookings alternate one by one between the three ways: the shared machine's load
    changes by the second, and must hit every side alike. Each round of three comes in
    a random order (fixed seed): in a fixed order «with» always followed «task», and a
    booking right after a «task» one, whichever way it wrote, took 0.3 ms more (the
    order swapped made «without» the dearer; docs/performance.md, «The outbox's cost,
    measured in rounds»)."""
    from django.utils import timezone

    from portal.notifications import delivery, polling, services
    from portal.notifications.models import Event, Kind, Message
    from portal.patients.models import Patient
    from portal.scheduling import services as booking
    from portal.scheduling.events import appointment_booked

    result = NotifyResult()
    ids = [p.patient_id for p in patients[: len(slot_ids)]]
    people = {p.pk: p for p in Patient.objects.filter(pk__in=ids).select_related("user")}
    # The outbox answers the booking through its receiver (scheduling.events): the
    # `Event` it returns is written with the appointment.
    state = {"mode": "with"}
    runs = {"with": result.with_rows, "without": result.without_rows, "task": result.with_task}
    modes = list(runs)
    order = _rotated(modes, len(slot_ids))

    def event_new(patient):
        # The booking writes what this returns with its appointment (in the claim's
        # statement on PostgreSQL); without the outbox nothing.
        return polling.booked_event_new(patient) if state["mode"] == "with" else None

    def task_rows(sender, *, appointment, **facts):
        if state["mode"] == "task":
            # The alternative measured: the confirmation's messages (bulk_create) and one
            # task row asking for them, in the booking's transaction.
            rows = Message.objects.bulk_create(
                services._appointment_rows(Kind.BOOKED, appointment, timezone.now())
            )
            delivery.deliver_messages.enqueue([m.pk for m in rows])

    appointment_booked.connect(task_rows, dispatch_uid="bench.notify.task_rows")
    try:
        with mock.patch("portal.notifications.receivers.booked_event_new", event_new):
            for n, (patient_id, slot_id) in enumerate(zip(ids, slot_ids, strict=False)):
                state["mode"] = order[n]
                patient = people[patient_id]
                began = time.perf_counter()
                assert patient.user is not None
                booking.appointment_book(
                    actor=patient.user,
                    patient=patient,
                    slot_id=slot_id,
                    idempotency_key=uuid.uuid4(),
                )
                took = time.perf_counter() - began
                if n < WARM_UP:  # the first calls load the URLconf, templates, connections
                    continue
                runs[state["mode"]].append(took)
        # The outbox's rows written by the "with" bookings (no worker ran): their events.
        written = Event.objects.filter(appointment__patient_id__in=ids).count()
        result.rows_per_booking = written / max(len(ids) // 3, 1)
    finally:
        appointment_booked.disconnect(dispatch_uid="bench.notify.task_rows")
        outbox_clear()
    log(
        f"outbox cost: {NotifyResult.per_second(result.with_rows):.0f} bookings/s with rows, "
        f"{NotifyResult.per_second(result.without_rows):.0f} without, "
        f"cost {result.cost * 100:.1f} % ({result.cost_with_task * 100:.1f} % writing the "
        f"messages and a task row instead), {result.rows_per_booking:.1f} rows per booking"
    )
    return result


def _queue(channel: str, address: str, count: int, recipient, per_task: int = 1) -> list[int]:
    from django.utils import timezone

    from portal.notifications.delivery import enqueue_delivery
    from portal.notifications.models import Message

    now = timezone.now()
    text = (
        "Вы записаны к врачу: 05.12 в 09:20, Поликлиника № 1, ул. Ленина, 1, каб. 214, талон 12345."
    )
    rows = Message.objects.bulk_create(
        Message(
            patient=recipient,
            recipient=recipient,
            channel=channel,
            kind="booked",
            address=address,
            subject="Запись к врачу",
            text=text,
            next_attempt_at=now,
            enqueued_for=now,
            dedupe_key=f"bench:{channel}:{uuid.uuid4()}",
        )
        for _ in range(count)
    )
    ids = [m.pk for m in rows]
    # One task per message, as bookings enqueue them; or chunks, as the sweep does.
    for start in range(0, len(ids), per_task):
        enqueue_delivery([(pk, channel) for pk in ids[start : start + per_task]])
    return ids


def _drain(env: dict[str, str], ids: list[int]) -> float:
    """Run one worker until the queue is empty; messages per second between first and last."""
    from django.db.models import Max, Min

    from portal.notifications.models import Message

    worker = subprocess.run(
        [
            *(sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"),
            *("--no-reload", "--queue-name", "*"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if worker.returncode:
        raise RuntimeError(f"the worker failed:\n{worker.stderr[-3000:]}")
    span = Message.objects.filter(pk__in=ids).aggregate(first=Min("sent_at"), last=Max("sent_at"))
    sent = Message.objects.filter(pk__in=ids, status__in=["sent", "delivered"]).count()
    if sent != len(ids) or span["first"] is None:
        raise RuntimeError(f"only {sent} of {len(ids)} messages were delivered")
    seconds = (span["last"] - span["first"]).total_seconds()
    return (sent - 1) / seconds if seconds else float("nan")


def delivery_rate(patients, result: NotifyResult, log: Log) -> None:
    from portal.notifications.devsink import LocalController, RecordingHandler
    from portal.patients.models import Patient

    recipient = Patient.objects.get(pk=patients[0].patient_id)
    sink = LocalController(RecordingHandler(), "127.0.0.1", 0)
    sink.start()
    env = {**os.environ, "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(sink.port)}
    try:
        ids = _queue("email", "bench@example.ru", MESSAGES, recipient)
        result.email_per_second = _drain(env, ids)
        result.email_count = len(ids)
        log(f"delivery: {len(ids)} e-mails, {result.email_per_second:.0f}/s by one worker")
        ids = _queue("email", "bench@example.ru", MESSAGES, recipient, per_task=50)
        result.backlog_per_second = _drain(env, ids)
        log(f"delivery: backlog of {len(ids)} e-mails, {result.backlog_per_second:.0f}/s")
    finally:
        sink.stop()
    try:
        from portal.smsc_emulator.runner import running_smsc
    except ImportError:
        log("delivery: no SMSC emulator in this tree, SMS rate skipped")
        return
    with running_smsc(system_id="bench", password="bench") as smsc:
        smsc.emulator.controls.receipt_delay = 0.0
        env |= {
            "SMPP_HOST": "127.0.0.1",
            "SMPP_PORT": str(smsc.port),
            "SMPP_SYSTEM_ID": "bench",
            "SMPP_PASSWORD": "bench",
        }
        ids = _queue("sms", "79140000000", MESSAGES, recipient)
        result.sms_per_second = _drain(env, ids)
        result.sms_count = len(ids)
        log(f"delivery: {len(ids)} SMS, {result.sms_per_second:.0f}/s by one worker")
    outbox_clear()


def run_notify_phases(patients, log: Log) -> NotifyResult:
    from bench import dataset

    dataset.bench_reset()
    outbox_clear()
    result = booking_cost(patients, dataset.sustained_slots(BOOKINGS, seed=12), log)
    dataset.bench_reset()
    delivery_rate(patients, result, log)
    return result


def main() -> int:
    from bench.run import _database_create, _environment, log

    env = _environment()
    _database_create(env["DATABASE_URL"])
    import django

    django.setup()
    from bench import dataset

    dataset.dataset_ensure(1, Path(env["PORTAL_DATA_DIR"]) / "dataset-notify.json", env, log)
    patients = dataset.bench_patients(BOOKINGS)
    result = run_notify_phases(patients, log)
    dataset.bench_reset()
    print(
        f"\nbooking with the outbox: {NotifyResult.per_second(result.with_rows):.0f}/s, "
        f"without: {NotifyResult.per_second(result.without_rows):.0f}/s, "
        f"cost {result.cost * 100:.1f} % (target < 10 %), writing the messages and a task "
        f"row instead {result.cost_with_task * 100:.1f} %\n"
        f"one worker: {result.email_per_second:.0f} e-mails/s ({result.backlog_per_second:.0f}/s "
        f"draining a backlog), {result.sms_per_second:.0f} SMS/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
