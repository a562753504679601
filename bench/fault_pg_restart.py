"""Fault drill: restart PostgreSQL in the middle of a booking rush, then check the damage.

    make fault-pg-restart     # or: uv run python -m bench.fault_pg_restart

What it does, for real, on this machine:
1. (re)creates the database FAULT_DB (default portal_hardening_fault), migrates it and
   writes one doctor with FAULT_SLOTS open slots and FAULT_PATIENTS logged-in patients;
2. serves the portal with gunicorn (DEBUG off, rate limits off) on FAULT_PORT (18510);
3. FAULT_THREADS clients book random slots and cancel half of what they get, for
   FAULT_SECONDS; after FAULT_RESTART_AT seconds it runs
   `pg_ctlcluster --skip-systemctl-redirect <version> main restart`;
4. checks: no slot booked twice, no active appointment without its booked slot, no
   booked slot without its appointment, every failure during the outage a Russian 503
   "try again" page (no 500, no stack trace, no hung request), and bookings succeed
   again after the restart with nobody touching the server.

Exit status 0 only if every check holds. Never run it inside `make test`: restarting
PostgreSQL breaks every other test run on the machine.
"""

import datetime
import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = os.environ.get("FAULT_DB", "portal_hardening_fault")
PG = os.environ.get("FAULT_PG", "postgres://postgres@127.0.0.1:5432")
PORT = int(os.environ.get("FAULT_PORT", "18510"))
PATIENTS = int(os.environ.get("FAULT_PATIENTS", "24"))
SLOTS = int(os.environ.get("FAULT_SLOTS", "30"))
THREADS = int(os.environ.get("FAULT_THREADS", "24"))
SECONDS = float(os.environ.get("FAULT_SECONDS", "25"))
RESTART_AT = float(os.environ.get("FAULT_RESTART_AT", "6"))
PG_VERSION = os.environ.get("FAULT_PG_VERSION", "15")
DATA_DIR = ROOT / "data" / "fault"
TRY_AGAIN = "Сервис временно недоступен"

SERVER_ENV = {
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "PORTAL_DATA_DIR": str(DATA_DIR),
    "DEBUG": "0",
    "SECRET_KEY": "fault-drill-" + "x" * 40,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "SECURE_COOKIES": "0",
    "SECURE_HSTS_SECONDS": "0",
    "RATELIMIT_ENABLE": "0",  # the drill is one IP hammering on purpose
    "ESIA_EMULATOR_ENABLED": "0",
    "DB_CONN_MAX_AGE": "60",  # persistent connections: the restart must break them
    "LOG_LEVEL": "WARNING",
}


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", f"{PG}/postgres", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
    )


def prepare() -> list[tuple[str, list[int]]]:
    """Fresh database, one doctor, open slots, patients with sessions → [(cookie, slot ids)]."""
    psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{DB_NAME}"')
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    os.environ.update(SERVER_ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from tests.factories import DoctorFactory, PatientFactory, SlotFactory, SpecialtyFactory

    call_command("migrate", verbosity=0)
    specialty = SpecialtyFactory(code="fault-drill", name="Офтальмолог")
    doctor = DoctorFactory(specialty=specialty)
    now = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
    slots = [
        SlotFactory(
            doctor=doctor,
            starts_at=now + datetime.timedelta(days=2, minutes=15 * n),
            ends_at=now + datetime.timedelta(days=2, minutes=15 * n + 15),
        ).pk
        for n in range(SLOTS)
    ]
    sessions = []
    for _ in range(PATIENTS):
        patient = PatientFactory(clinic=doctor.clinic)
        client = Client()
        client.force_login(patient.user)
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    from django.db import connections

    connections.close_all()
    return [(cookie, slots) for cookie in sessions]


@dataclass
class Log:
    lock: threading.Lock = field(default_factory=threading.Lock)
    rows: list[tuple[float, str, int, str]] = field(default_factory=list)

    def add(self, t: float, what: str, status: int, kind: str) -> None:
        with self.lock:
            self.rows.append((t, what, status, kind))


def classify(response: httpx.Response) -> str:
    text = response.text
    if "Traceback" in text or response.status_code == 500:
        return "error-page"
    if response.status_code == 503:
        return "try-again" if TRY_AGAIN in text else "503-other"
    return "answer"


def csrf_of(http: httpx.Client, html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return str(match.group(1)) if match else str(http.cookies.get("csrftoken", ""))


def rush(cookie: str, slots: list[int], log: Log, start: float, stop: float) -> None:
    base = f"http://127.0.0.1:{PORT}"
    with httpx.Client(base_url=base, cookies={"sessionid": cookie}, timeout=30) as http:
        while time.monotonic() < stop:
            t = time.monotonic() - start
            slot = random.choice(slots)
            try:
                page = http.get(f"/booking/slot/{slot}/")
                log.add(t, "GET confirm", page.status_code, classify(page))
                if page.status_code != 200:
                    time.sleep(0.2)
                    continue
                key = re.search(r'name="key" value="([^"]+)"', page.text)
                answer = http.post(
                    f"/booking/slot/{slot}/",
                    data={
                        "key": key.group(1) if key else str(uuid.uuid4()),
                        "csrfmiddlewaretoken": csrf_of(http, page.text),
                    },
                    headers={"Referer": base + f"/booking/slot/{slot}/"},
                )
                log.add(t, "POST book", answer.status_code, classify(answer))
                ticket = answer.headers.get("location", "")
                if answer.status_code == 302 and random.random() < 0.5:
                    cancel_url = ticket.rstrip("/") + "/cancel/"
                    form = http.get(cancel_url)
                    done = http.post(
                        cancel_url,
                        data={"csrfmiddlewaretoken": csrf_of(http, form.text)},
                        headers={"Referer": base + cancel_url},
                    )
                    log.add(t, "POST cancel", done.status_code, classify(done))
            except httpx.TimeoutException:
                log.add(t, "request", 0, "hung")
            except httpx.HTTPError as exc:
                log.add(t, "request", 0, f"transport:{type(exc).__name__}")


def broken_bookings() -> dict[str, int]:
    """The booking invariants that no fault may break, counted on the real database:
    each must be 0 (this drill and `bench.fault_pg_hang` both ask)."""
    from django.db import connection
    from django.db.models import Count, Q

    from portal.scheduling.models import Appointment, Slot

    connection.close()
    active = Q(status=Appointment.Status.BOOKED)
    return {
        "slots booked twice": Appointment.objects.filter(active)
        .values("slot")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "active appointments whose slot is not booked": Appointment.objects.filter(active)
        .exclude(slot__status=Slot.Status.BOOKED)
        .count(),
        "booked slots without an active appointment": Slot.objects.filter(status=Slot.Status.BOOKED)
        .exclude(appointments__status=Appointment.Status.BOOKED)
        .count(),
    }


def invariants() -> dict[str, int]:
    from portal.scheduling.models import Appointment

    checks = broken_bookings()
    checks["active appointments"] = Appointment.objects.filter(
        status=Appointment.Status.BOOKED
    ).count()
    return checks


def main() -> int:
    print(f"Preparing {DB_NAME}: {PATIENTS} patients, {SLOTS} slots …", flush=True)
    sessions = prepare()
    server_log = DATA_DIR / "gunicorn.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind",
         f"127.0.0.1:{PORT}", "--workers", "4", "--timeout", "30",
         "--error-logfile", str(server_log)],
        cwd=ROOT, env={**os.environ, **SERVER_ENV},
        stdout=server_log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{PORT}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        log = Log()
        start = time.monotonic()
        stop = start + SECONDS
        threads = [
            threading.Thread(target=rush, args=(*sessions[i % len(sessions)], log, start, stop))
            for i in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(RESTART_AT)
        down_from = time.monotonic() - start
        restart = subprocess.run(
            ["true"]
            if os.environ.get("FAULT_DRY_RUN")  # everything but the restart
            else ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", "restart"],
            capture_output=True,
            text=True,
            check=False,
        )
        down_to = time.monotonic() - start
        print(f"PostgreSQL restart: exit {restart.returncode}, {down_from:.1f}s → {down_to:.1f}s")
        for thread in threads:
            thread.join()
        health = httpx.get(f"http://127.0.0.1:{PORT}/healthz", timeout=5).status_code
    finally:
        server.terminate()
        server.wait(timeout=30)

    kinds = Counter(kind for *_, kind in log.rows)
    during = Counter(kind for t, _, _, kind in log.rows if down_from - 0.5 <= t <= down_to + 3)
    booked_after = sum(
        1
        for t, what, status, _ in log.rows
        if what == "POST book" and status == 302 and t > down_to + 3
    )
    statuses = Counter(f"{what} {status}" for _, what, status, _ in log.rows)
    checks = invariants()
    print(f"Requests: {len(log.rows)}; by kind: {dict(kinds)}")
    print(f"Around the restart (±): {dict(during)}")
    print("Statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
    print(f"Bookings that succeeded after the restart: {booked_after}; /healthz after: {health}")
    for name, value in checks.items():
        print(f"{name}: {value}")
    failures = [
        name
        for name, bad in [
            ("a slot booked twice", checks["slots booked twice"]),
            ("appointment without its slot",
             checks["active appointments whose slot is not booked"]),
            ("slot without its appointment", checks["booked slots without an active appointment"]),
            ("500 or stack trace", kinds["error-page"]),
            ("503 without the Russian page", kinds["503-other"]),
            ("hung or dropped requests", kinds["hung"] + sum(
                v for k, v in kinds.items() if k.startswith("transport"))),
            ("no try-again page seen during the outage", not kinds["try-again"]),
            ("no recovery", not booked_after or health != 200),
            ("restart failed", restart.returncode),
        ]
        if bad
    ]  # fmt: skip
    print("RESULT: " + ("OK" if not failures else "FAILED: " + ", ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
