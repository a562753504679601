"""Fault drill: PostgreSQL accepts connections and then never answers (issue 24, point 2).

    make fault-pg-hang     # or: uv run python -m bench.fault_pg_hang

What it does, for real, on this machine, without touching the machine's PostgreSQL:
1. (re)creates the database FAULT_DB (default portal_fault_hang) on 127.0.0.1:5432,
   migrates it and writes one doctor with open slots, a patient with a session and an
   OAuth token;
2. starts `HangProxy`, a TCP proxy on FAULT_PROXY_PORT (18611) in front of
   127.0.0.1:5432 that this script controls: it passes bytes, or holds every byte of
   every connection, old and new, without answering (a hung primary, or a network that
   swallows packets);
3. serves the portal with gunicorn as docs/operations.md deploys it (sync workers,
   --timeout 30, DEBUG off) on FAULT_PORT (18610), its DATABASE_URL through the proxy;
4. warms up (pages, API, /healthz answer 200), then hangs the proxy for FAULT_HANG_SECONDS
   while clients keep asking for «Мои записи», the FHIR Appointment search, /healthz, and
   post one booking through the page and one through the API;
5. lets the bytes flow again (the held connections are cut, as a restarted server would)
   and waits for the portal to answer 200 by itself;
6. prints the figures — time to the first 503, the slowest answer during the hang, the
   /healthz times, workers killed by gunicorn (must be 0), how each request ended — and
   checks that nothing was half-written (no booking of the hang, slot states consistent).

Exit status 0 only if every check holds. The pytest version is
`tests/core/test_database_hang.py` (marker postgres_only).
"""

import contextlib
import datetime
import os
import re
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.fault_pg_restart import broken_bookings
from bench.server import workers_for

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("FAULT_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("FAULT_DB", "portal_fault_hang")
PORT = int(os.environ.get("FAULT_PORT", "18610"))
PROXY_PORT = int(os.environ.get("FAULT_PROXY_PORT", "18611"))
# As docs/operations.md sizes a host whose database shares its cores: one per core plus one.
WORKERS = int(os.environ.get("FAULT_WORKERS", str(workers_for(os.cpu_count() or 1))))
HANG_SECONDS = float(os.environ.get("FAULT_HANG_SECONDS", "15"))
WORKER_TIMEOUT = 30  # gunicorn's --timeout in docs/operations.md
TRY_AGAIN = "Сервис временно недоступен"


# --- the proxy -------------------------------------------------------------------------


class HangProxy:
    """A TCP proxy in front of PostgreSQL: ``hang()`` holds every byte, ``resume()`` passes.

    While hung it still accepts connections (the kernel's backlog would anyway) and reads
    what clients send, but forwards nothing either way: a server that takes the bytes
    and never answers. ``resume()`` cuts the connections that were held, as a restarted
    server would, and new ones pass again. A client that hangs up has its upstream
    connection closed, so the server rolls back whatever it had open.
    """

    def __init__(self, upstream: tuple[str, int], port: int = 0) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._hung = False
        self._held: list[socket.socket] = []
        self._open: set[socket.socket] = set()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True, name="hang-proxy")

    def start(self) -> "HangProxy":
        self._thread.start()
        return self

    def hang(self) -> None:
        with self._lock:
            self._hung = True
            self._held.extend(self._open)

    def resume(self) -> None:
        with self._lock:
            self._hung = False
            held, self._held = self._held, []
        for sock in held:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._stopped.set()
        self.resume()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    def _is_held(self, sock: socket.socket) -> bool:
        with self._lock:
            return self._hung or sock in self._held

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            self._open.add(client)
            if self._hung:
                self._held.append(client)
        upstream: socket.socket | None = None
        try:
            while self._is_held(client) and not self._stopped.is_set():
                if not self._drain(client):
                    return
            if self._stopped.is_set():
                return
            upstream = socket.create_connection(self.upstream, timeout=5)
            upstream.settimeout(None)
            self._pump(client, upstream)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(client)
            for sock in (client, upstream):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.close()

    def _drain(self, client: socket.socket) -> bool:
        """Read and drop what a held client sends; False once it hangs up."""
        with selectors.DefaultSelector() as sel:
            sel.register(client, selectors.EVENT_READ)
            if sel.select(timeout=0.2):
                return bool(client.recv(65536))
        return True

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as sel:
            sel.register(client, selectors.EVENT_READ)
            sel.register(upstream, selectors.EVENT_READ)
            while not self._stopped.is_set():
                if self._is_held(client):
                    # Hung: take the bytes and keep them (nothing reaches either side).
                    if not self._drain(client):
                        return
                    continue
                for key, _ in sel.select(timeout=0.2):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    data = sock.recv(65536)
                    if not data:
                        return
                    if self._is_held(client):
                        break  # hung mid-stream: this reply never arrives
                    peers[sock].sendall(data)


# --- the portal under gunicorn ---------------------------------------------------------


def server_env(database_url: str, data_dir: Path, port: int = PORT) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_REPLICA_URL")}
    return env | {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url,
        "PORTAL_DATA_DIR": str(data_dir),
        "DEBUG": "0",
        "SECRET_KEY": "fault-hang-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "RATELIMIT_ENABLE": "0",
        "ESIA_EMULATOR_ENABLED": "0",
        "SMSC_EMULATOR_ENABLED": "0",
        "DB_CONN_MAX_AGE": "60",  # kept connections, as in production: the hang holds them
        "FHIR_SYSTEM_BASE": f"http://127.0.0.1:{port}/fhir",
        "LOG_LEVEL": "WARNING",
    }


@contextlib.contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int, log_path: Path) -> Iterator[Path]:
    """gunicorn as docs/operations.md runs it; yields its log (worker timeouts are logged)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_bytes(b"")
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi:application",
             "--config", "python:portal.gunicorn_conf",
             "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
             "--timeout", str(WORKER_TIMEOUT), "--error-logfile", str(log_path)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                    break
            time.sleep(0.3)
        else:
            raise RuntimeError(f"gunicorn did not come up; see {log_path}")
        yield log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the people and what they ask ------------------------------------------------------


@dataclass(frozen=True)
class Stand:
    """What the clients need, written straight into the database beforehand."""

    cookie: str
    token: str
    patient_id: int
    slot_ids: tuple[int, int]  # one for the page's booking, one for the API's


def stand_prepare(port: int) -> Stand:
    """One doctor with open slots, a patient with a session and a token (Django is set up
    on the real database, not through the proxy)."""
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    from portal.api.services import client_register
    from tests.factories import DoctorFactory, PatientFactory, SlotFactory, SpecialtyFactory

    doctor = DoctorFactory(specialty=SpecialtyFactory(code=f"hang-{uuid.uuid4().hex[:6]}"))
    now = timezone.now().replace(second=0, microsecond=0)
    slots = [
        SlotFactory(
            doctor=doctor,
            starts_at=now + datetime.timedelta(days=2, minutes=20 * n),
            ends_at=now + datetime.timedelta(days=2, minutes=20 * n + 20),
            opens_at=now - datetime.timedelta(days=1),
        ).pk
        for n in range(4)
    ]
    patient = PatientFactory(clinic=doctor.clinic)
    browser = Client()
    browser.force_login(patient.user)
    app = client_register(name="Учения", redirect_uris=["https://drill.example/cb"])
    token = AccessToken.objects.create(
        user=patient.user,
        application=app,
        token=uuid.uuid4().hex + uuid.uuid4().hex,
        scope="patient/Patient.r patient/Appointment.rs patient/Appointment.cu",
        expires=timezone.now() + datetime.timedelta(hours=1),
        resource=[f"http://127.0.0.1:{port}/fhir"],
    ).token
    return Stand(
        cookie=browser.cookies[settings.SESSION_COOKIE_NAME].value,
        token=token,
        patient_id=patient.pk,
        slot_ids=(slots[0], slots[1]),
    )


def kind_of(response: httpx.Response) -> str:
    """How a request ended, in one word."""
    status = response.status_code
    if status == 503:
        retry = response.headers.get("retry-after", "").isdigit()
        if response.headers.get("content-type", "").startswith("application/fhir+json"):
            body = response.json()
            outcome = body.get("resourceType") == "OperationOutcome"
            return "503 OperationOutcome" if outcome and retry else "503 other"
        if response.headers.get("content-type", "").startswith("application/json"):
            return "503 healthz"
        return "503 page" if TRY_AGAIN in response.text and retry else "503 other"
    return str(status)


@dataclass
class Record:
    what: str
    started: float  # seconds since the hang began (negative: before)
    seconds: float
    kind: str


@dataclass
class Journal:
    lock: threading.Lock = field(default_factory=threading.Lock)
    rows: list[Record] = field(default_factory=list)

    def add(self, row: Record) -> None:
        with self.lock:
            self.rows.append(row)


Call = Callable[[], httpx.Response]


def timed(journal: Journal, what: str, t0: float, call: Call) -> httpx.Response | None:
    start = time.monotonic()
    try:
        response = call()
    except httpx.TimeoutException:
        journal.add(Record(what, start - t0, time.monotonic() - start, "client timeout"))
        return None
    except httpx.HTTPError as exc:
        journal.add(Record(what, start - t0, time.monotonic() - start, type(exc).__name__))
        return None
    journal.add(Record(what, start - t0, time.monotonic() - start, kind_of(response)))
    return response


@dataclass
class Figures:
    first_503_seconds: float | None
    slowest_during_hang: float
    median_during_hang: float
    healthz_during_hang: list[float]
    workers_killed: int
    kinds_during_hang: dict[str, int]
    recovered_after_seconds: float | None
    rows: list[Record]

    def print(self) -> None:
        print(f"time to the first 503 after the hang began: {self.first_503_seconds} s")
        print(
            f"answers during the hang: median {self.median_during_hang:.2f} s, "
            f"slowest {self.slowest_during_hang:.2f} s"
        )
        health = ", ".join(f"{s:.2f}" for s in self.healthz_during_hang)
        print(f"/healthz during the hang (s): {health}")
        print(f"how requests ended during the hang: {self.kinds_during_hang}")
        print(f"workers killed by gunicorn: {self.workers_killed}")
        print(f"answering 200 again after the bytes flowed: {self.recovered_after_seconds} s")


def drill(
    stand: Stand, proxy: HangProxy, port: int, log_path: Path, hang_seconds: float
) -> Figures:
    """Warm up, hang the proxy, keep asking, resume; the figures of what clients saw."""
    base = f"http://127.0.0.1:{port}"
    page = httpx.Client(base_url=base, cookies={"sessionid": stand.cookie}, timeout=40)
    api = httpx.Client(
        base_url=base, timeout=40, headers={"Authorization": f"Bearer {stand.token}"}
    )
    health = httpx.Client(base_url=base, timeout=40)
    journal = Journal()
    try:
        # Warm-up: every worker holds a connection through the proxy.
        for _ in range(WORKERS * 2):
            assert page.get("/appointments/").status_code == 200
            assert api.get("/fhir/Appointment").status_code == 200
            assert health.get("/healthz").status_code == 200
        confirm = page.get(f"/booking/slot/{stand.slot_ids[0]}/")
        assert confirm.status_code == 200, confirm.status_code
        key = re.search(r'name="key" value="([^"]+)"', confirm.text)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', confirm.text)
        assert key and csrf

        proxy.hang()
        t0 = time.monotonic()
        stop = t0 + hang_seconds

        def loop(what: str, call: Call, pause: float) -> None:
            while time.monotonic() < stop:
                timed(journal, what, t0, call)
                time.sleep(pause)

        book_body = {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{stand.slot_ids[1]}"}],
            "participant": [{"actor": {"reference": f"Patient/{stand.patient_id}"}}],
        }
        threads = [
            threading.Thread(target=loop, args=("page", lambda: page.get("/appointments/"), 0.2)),
            threading.Thread(target=loop, args=("api", lambda: api.get("/fhir/Appointment"), 0.2)),
            threading.Thread(target=loop, args=("healthz", lambda: health.get("/healthz"), 0.5)),
            threading.Thread(
                target=timed,
                args=(journal, "page booking", t0, lambda: page.post(
                    f"/booking/slot/{stand.slot_ids[0]}/",
                    data={"key": key.group(1), "csrfmiddlewaretoken": csrf.group(1)},
                    headers={"Referer": f"{base}/booking/slot/{stand.slot_ids[0]}/"},
                )),
            ),
            threading.Thread(
                target=timed,
                args=(journal, "api booking", t0, lambda: api.post(
                    "/fhir/Appointment", json=book_body,
                    headers={"Content-Type": "application/fhir+json", "X-Request-Id": "drill"},
                )),
            ),
        ]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        during = list(journal.rows)

        proxy.resume()
        t1 = time.monotonic()
        recovered: float | None = None
        while time.monotonic() < t1 + 30:
            with contextlib.suppress(httpx.HTTPError):
                if page.get("/appointments/").status_code == 200:
                    recovered = round(time.monotonic() - t1, 2)
                    break
            time.sleep(0.2)
    finally:
        for client in (page, api, health):
            client.close()

    answered = [r for r in during if r.kind.startswith("503")]
    first = min((r.started + r.seconds for r in answered), default=None)
    seconds = [r.seconds for r in during]
    log = log_path.read_text(errors="replace")
    return Figures(
        first_503_seconds=None if first is None else round(first, 2),
        slowest_during_hang=max(seconds, default=0.0),
        median_during_hang=statistics.median(seconds) if seconds else 0.0,
        healthz_during_hang=[r.seconds for r in during if r.what == "healthz"],
        workers_killed=log.count("WORKER TIMEOUT"),
        kinds_during_hang=dict(Counter(f"{r.what}: {r.kind}" for r in during)),
        recovered_after_seconds=recovered,
        rows=during,
    )


def half_written(stand: Stand) -> dict[str, int]:
    """What a hung write must never leave behind (read on the real database)."""
    from portal.scheduling.models import Appointment, Slot

    left = broken_bookings()  # closes the connection the hang may have broken
    return {
        "appointments of the hang": Appointment.objects.filter(patient_id=stand.patient_id).count(),
        "slots of the hang not free": Slot.objects.filter(pk__in=stand.slot_ids)
        .exclude(status=Slot.Status.FREE)
        .count(),
        **left,
    }


def failures_of(figures: Figures, damage: dict[str, int], limit: float = 5.0) -> list[str]:
    failures = [f"{name}: {value}" for name, value in damage.items() if value]
    if figures.workers_killed:
        failures.append(f"gunicorn killed {figures.workers_killed} workers")
    # Every request here began after the hang (a request already waiting on the database
    # when it hangs may take the statement deadline, DB_STATEMENT_TIMEOUT_MS + 1 s).
    late = [r for r in figures.rows if r.seconds >= limit]
    if late:
        failures.append(f"{len(late)} requests took {limit} s or more: {late[:3]}")
    bad = [r for r in figures.rows if not r.kind.startswith("503")]
    if bad:
        failures.append(f"{len(bad)} requests did not end in a 503: {Counter(r.kind for r in bad)}")
    wrong = [
        r
        for r in figures.rows
        if (r.what.startswith("api") and r.kind != "503 OperationOutcome")
        or (r.what.startswith("page") and r.kind != "503 page")
        or (r.what == "healthz" and r.kind != "503 healthz")
    ]
    if wrong:
        failures.append(
            f"{len(wrong)} answers in the wrong format: {Counter(r.kind for r in wrong)}"
        )
    if figures.recovered_after_seconds is None:
        failures.append("the portal did not answer 200 again within 30 s of the bytes flowing")
    return failures


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", f"{PG}/postgres", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
    )


def main() -> int:
    data_dir = ROOT / "data" / "fault-hang"
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"Preparing {DB_NAME} …", flush=True)
    psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{DB_NAME}"')
    os.environ.update(server_env(f"{PG}/{DB_NAME}", data_dir))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    stand = stand_prepare(PORT)
    connections.close_all()

    host, _, port = PG.rsplit("@", 1)[-1].partition(":")
    proxy = HangProxy((host, int(port or 5432)), PROXY_PORT).start()
    env = server_env(f"postgres://postgres@127.0.0.1:{proxy.port}/{DB_NAME}", data_dir)
    try:
        with gunicorn(env, PORT, WORKERS, data_dir / "gunicorn.log") as log_path:
            print(f"gunicorn: {WORKERS} sync workers, --timeout {WORKER_TIMEOUT}; hanging the "
                  f"proxy for {HANG_SECONDS:g} s", flush=True)  # fmt: skip
            figures = drill(stand, proxy, PORT, log_path, HANG_SECONDS)
    finally:
        proxy.stop()
    figures.print()
    damage = half_written(stand)
    for name, value in damage.items():
        print(f"{name}: {value}")
    failures = failures_of(figures, damage)
    psql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("OK: every request during the hang got a 503 in its own format, no worker died, "
          "nothing was half-written")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
