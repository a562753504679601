"""Fault drill: kill and restart the outbox workers during a booking burst.

    make fault-worker     # or: uv run python -m bench.fault_worker

What it does, for real, on this machine (PostgreSQL, like production):
1. (re)creates the database FAULT_DB (default portal_notify_fault), migrates it, writes
   one doctor with FAULT_SLOTS open slots and FAULT_PATIENTS patients with e-mail;
2. starts a local SMTP server (aiosmtpd, in this process, any free port) that counts
   every delivery per Message-ID, FAULT_WORKERS `manage.py tasks_worker` processes and the
   sweep (`notifications_sweep --every 1`, lease 3 s);
3. FAULT_THREADS threads book (and cancel a third of what they get) for FAULT_SECONDS,
   while every FAULT_KILL_EVERY seconds one worker gets SIGKILL and a new one starts;
4. waits until the outbox is drained, then checks: every confirmation and cancellation
   written for a committed booking was accepted by the SMTP server (nothing lost); no
   message was accepted twice under different Message-IDs; a message delivered twice
   under its one Message-ID (a worker killed between the server's 250 and our
   acknowledgement) is counted and must have been retried (attempts ≥ 2); the mailbox,
   which keeps one copy per Message-ID, holds exactly one per message.

Exit status 0 only if every check holds.
"""

import datetime
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = os.environ.get("FAULT_DB", "portal_notify_fault")
PG = os.environ.get("FAULT_PG", "postgres://postgres@127.0.0.1:5432")
PATIENTS = int(os.environ.get("FAULT_PATIENTS", "100"))
SLOTS = int(os.environ.get("FAULT_SLOTS", "200"))
THREADS = int(os.environ.get("FAULT_THREADS", "8"))
WORKERS = int(os.environ.get("FAULT_WORKERS", "2"))
SECONDS = float(os.environ.get("FAULT_SECONDS", "20"))
KILL_EVERY = float(os.environ.get("FAULT_KILL_EVERY", "1.5"))
DRAIN_LIMIT = float(os.environ.get("FAULT_DRAIN_LIMIT", "90"))
DATA_DIR = ROOT / "data" / "fault-worker"

ENV = {
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "PORTAL_DATA_DIR": str(DATA_DIR),
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "SMPP_HOST": "",  # e-mail only: the SMSC emulator has its own drills
    "NOTIFICATIONS_LEASE_SECONDS": "3",
    "NOTIFICATIONS_SWEEP_GRACE_SECONDS": "2",
    "NOTIFICATIONS_RETRY_BASE_SECONDS": "1",
    "NOTIFICATIONS_RETRY_MAX_SECONDS": "2",
    "NOTIFICATIONS_MAX_ATTEMPTS": "50",
    "LOG_LEVEL": "WARNING",
    "RATELIMIT_ENABLE": "0",
}


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", f"{PG}/postgres", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
    )


def prepare() -> tuple[list[int], list[int]]:
    psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{DB_NAME}"')
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    os.environ.update(ENV)
    import django

    django.setup()
    from django.core.management import call_command

    from tests.factories import DoctorFactory, PatientFactory, SlotFactory, SpecialtyFactory

    call_command("migrate", verbosity=0)
    doctor = DoctorFactory(specialty=SpecialtyFactory(code="fault-drill", name="Офтальмолог"))
    # Visits at 12:00 local and later, days ahead: the confirmations are due now.
    base = datetime.datetime.now(datetime.UTC).replace(hour=4, minute=0, second=0, microsecond=0)
    slots = [
        SlotFactory(
            doctor=doctor,
            starts_at=base + datetime.timedelta(days=3 + n // 20, minutes=20 * (n % 20)),
            ends_at=base + datetime.timedelta(days=3 + n // 20, minutes=20 * (n % 20) + 20),
            opens_at=base - datetime.timedelta(days=1),
        ).pk
        for n in range(SLOTS)
    ]
    patients = [
        PatientFactory(clinic=doctor.clinic, email=f"p{n}@example.ru").pk for n in range(PATIENTS)
    ]
    from django.db import connections

    connections.close_all()
    return patients, slots


def burst(patient_ids: list[int], slots: list[int], stop: float, tally: Counter[str]) -> None:
    from django.db import connections

    from portal.patients.models import Patient
    from portal.scheduling.errors import BookingRefused
    from portal.scheduling.models import Appointment
    from portal.scheduling.services import appointment_book, appointment_cancel

    rng = random.Random()
    try:
        while time.monotonic() < stop:
            patient = Patient.objects.select_related("user").get(pk=rng.choice(patient_ids))
            assert patient.user is not None
            try:
                result = appointment_book(
                    actor=patient.user,
                    patient=patient,
                    slot_id=rng.choice(slots),
                    idempotency_key=uuid.uuid4(),
                )
                tally["booked"] += 1
                if rng.random() < 0.33:
                    appointment = Appointment.objects.get(pk=result.appointment.pk)
                    appointment_cancel(actor=patient.user, appointment=appointment)
                    tally["cancelled"] += 1
            except BookingRefused as refused:
                tally[f"refused:{refused.code}"] += 1
    finally:
        connections.close_all()


def worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "tasks_worker", "--interval", "0.2",
         "--queue-name", "*", "--no-startup-delay"],
        cwd=ROOT, env={**os.environ, **ENV},
        stdout=subprocess.DEVNULL, stderr=(DATA_DIR / "workers.log").open("ab"),
    )  # fmt: skip


def main() -> int:
    print(f"Preparing {DB_NAME}: {PATIENTS} patients, {SLOTS} slots …", flush=True)
    patient_ids, slots = prepare()
    from portal.notifications.devsink import LocalController, MailboxHandler

    mailbox = DATA_DIR / "mailbox"
    for old in mailbox.glob("*.eml"):
        old.unlink()
    handler = MailboxHandler(directory=mailbox)
    sink = LocalController(handler, "127.0.0.1", 0)
    sink.start()
    ENV["EMAIL_PORT"] = str(sink.port)
    ENV["EMAIL_HOST"] = "127.0.0.1"
    os.environ.update(ENV)

    sweep = subprocess.Popen(
        [sys.executable, "manage.py", "notifications_sweep", "--every", "1"],
        cwd=ROOT, env={**os.environ, **ENV}, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    workers = [worker() for _ in range(WORKERS)]
    kills = 0
    tally: Counter[str] = Counter()
    try:
        stop = time.monotonic() + SECONDS
        threads = [
            threading.Thread(target=burst, args=(patient_ids, slots, stop, tally))
            for _ in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        while time.monotonic() < stop:
            time.sleep(KILL_EVERY * random.uniform(0.5, 1.5))
            victim = random.randrange(len(workers))
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            kills += 1
            workers[victim] = worker()
        for thread in threads:
            thread.join()
        print(f"Burst: {dict(tally)}; workers killed: {kills}", flush=True)

        from django.db import connection

        from portal.notifications.models import Event, Kind, Message, Status

        immediate = Message.objects.filter(kind__in=[Kind.BOOKED, Kind.CANCELLED])
        deadline = time.monotonic() + DRAIN_LIMIT
        # A booking's confirmation is written by a polling worker from its Event (issue 25).
        while (
            Event.objects.exists() or immediate.exclude(status=Status.SENT).exists()
        ) and time.monotonic() < deadline:
            time.sleep(0.5)
            connection.close()
    finally:
        for process in [*workers, sweep]:
            process.terminate()
        for process in [*workers, sweep]:
            process.wait(timeout=30)
        sink.stop()

    from portal.scheduling.models import Appointment

    rows = list(immediate.values_list("pk", "status", "attempts", "dedupe_key"))
    from portal.notifications.channels import message_id_of

    expected = {
        message_id_of(Message(pk=pk, dedupe_key=key)): attempts for pk, _s, attempts, key in rows
    }
    received = Counter(handler.message_ids())
    booked = Appointment.objects.count()
    cancelled = Appointment.objects.exclude(status=Appointment.Status.BOOKED).count()
    lost = [mid for mid in expected if received[mid] == 0]
    strangers = [mid for mid in received if mid not in expected]
    twice = {mid: n for mid, n in received.items() if n > 1}
    twice_without_retry = [mid for mid in twice if expected.get(mid, 0) < 2]
    not_sent = [pk for pk, status, *_ in rows if status != Status.SENT]
    files = len(list(mailbox.glob("*.eml")))

    print(f"Appointments: {booked} booked, {cancelled} of them cancelled")
    print(
        f"Messages due now: {len(rows)} (expected {booked + cancelled}); not sent: {len(not_sent)}"
    )
    print(f"SMTP deliveries: {sum(received.values())}, distinct Message-IDs: {len(received)}")
    print(f"Delivered twice under one Message-ID (killed between 250 and ack): {len(twice)}")
    print(f"Mailbox files (one per Message-ID): {files}")
    failures = [
        name
        for name, bad in [
            ("a message row missing for a committed booking", len(rows) != booked + cancelled),
            ("messages not sent", not_sent),
            ("messages lost", lost),
            ("deliveries under an unknown Message-ID", strangers),
            ("a repeat without a retry", twice_without_retry),
            ("mailbox does not hold one per message", files != len(rows)),
            ("no worker was killed", not kills),
        ]
        if bad
    ]
    print("RESULT: " + ("OK" if not failures else "FAILED: " + ", ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
