"""The peer (issue 25): django-appointment and the portal's booking, both at the peer's setup.

django-appointment is installed by this module into a venv of its own (data/bench/peer-venv,
`uv venv` + `uv pip install`), never into the project's: it is not a project dependency. Its
Django, gunicorn and psycopg are pinned to the versions in the project's uv.lock, so both
sides run the same framework. Then, in one run:

1. the peer's database (`bench_peer`, BENCH_PEER_DATABASE_URL) is migrated and filled by
   bench/peer_project/tool.py (staff, a service, working hours, days off, logged-in clients);
2. gunicorn serves the peer with 3 sync workers on 127.0.0.1:BENCH_PEER_PORT (18410), and the
   project's load generator books distinct slots with 8 clients, each booking as the peer's
   own pages do it: POST /appointment/request-submit/ (creates the AppointmentRequest, 302 to
   the client-information form), then POST that form (creates the Appointment, 302 to the
   thank-you page); the peer's database is then asked how many appointments exist;
3. the portal's gunicorn with 3 sync workers and the same 8 clients books distinct slots with
   the sustained booking phase's request (bench/run.py `booking_request`).

BENCH_PEER=0 skips the phase; `make bench-peer` (`python -m bench.peer`) runs it alone. If the
peer cannot be installed (no network), the phase says so in one line and the bench goes on.
Load goes to 127.0.0.1 only; every loop is bounded by a count and a time limit; every server
is stopped in `finally`.
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bench.loadgen import Request, Response, Target, closed_loop, fetch
from bench.stats import Row, Run, fmt_num, ratio, table_markdown, verdict
from bench.vacuum import vacuum_analyze

if TYPE_CHECKING:
    from bench.dataset import BenchPatient

ROOT = Path(__file__).resolve().parent.parent
PEER_PACKAGE = "django-appointment"
PEER_VERSION = "3.12.0"
# The framework and the server as the portal has them in uv.lock: the same Django both sides.
SHARED_PACKAGES = ("django", "gunicorn", "psycopg", "psycopg-binary")
PEER_WORKERS = 3  # the peer's setup: 3 gunicorn sync workers,
PEER_CLIENTS = 8  # 8 concurrent clients
PEER_PORT = int(os.environ.get("BENCH_PEER_PORT", "18410"))
PEER_DB = "postgres://postgres@127.0.0.1:5432/bench_peer"
BOOKINGS = int(os.environ.get("BENCH_PEER_BOOKINGS", "1000"))
TIME_LIMIT = float(os.environ.get("BENCH_PEER_LIMIT", "30"))  # seconds per side
WARM_UP = 60
INSTALL_LIMIT = 600.0  # seconds for `uv pip install`
SETUP_LIMIT = 300.0  # seconds for the peer's migrate and data
TARGET_RATIO = 4.0
# A phone number django-phonenumber-field accepts (its split widget: region, then number).
PEER_PHONE = ("RU", "9123456789")
Log = Callable[[str], None]


class PeerUnavailable(RuntimeError):
    """The peer could not be installed or set up; the message says why, in one line."""


# --- pure helpers (tests/bench/test_peer.py) ------------------------------------------


def locked_versions(lock_text: str, names: tuple[str, ...]) -> dict[str, str]:
    """The versions uv.lock pins for ``names`` (a name missing from the lock raises)."""
    packages = tomllib.loads(lock_text).get("package", [])
    found = {p["name"]: p["version"] for p in packages if p.get("name") in names}
    missing = [n for n in names if n not in found]
    if missing:
        raise PeerUnavailable(f"uv.lock pins no {', '.join(missing)}")
    return {n: found[n] for n in names}


def requirements(pins: dict[str, str]) -> list[str]:
    return [f"{name}=={version}" for name, version in pins.items()]


def missing_requirements(wanted: dict[str, str], installed: dict[str, str]) -> list[str]:
    """The requirements the venv lacks or has at another version (names compared
    case-insensitively, with - and _ alike, as packaging normalises them)."""

    def norm(name: str) -> str:
        return name.lower().replace("_", "-")

    have = {norm(k): v for k, v in installed.items()}
    return [f"{n}=={v}" for n, v in wanted.items() if have.get(norm(n)) != v]


def request_submit_form(csrf: str, service: int, slot: list[Any]) -> dict[str, str]:
    """What the peer's booking page posts (appointments.js): the staff member's select and
    the hidden fields the script adds for the chosen slot."""
    staff, day, start, end = slot
    return {
        "csrfmiddlewaretoken": csrf,
        "staff_member": str(staff),
        "appointment_request_id": "",
        "date": day,
        "start_time": start,
        "end_time": end,
        "service": str(service),
        "reason_for_rescheduling": "",
    }


def client_info_form(csrf: str, name: str) -> dict[str, str]:
    """What the peer's client-information form posts for a logged-in client (the e-mail is
    the account's and not shown; no reminder asked, as none is configured)."""
    region, number = PEER_PHONE
    return {
        "csrfmiddlewaretoken": csrf,
        "name": name,
        "phone_0": region,
        "phone_1": number,
        "address": "",
        "additional_info": "",
        "payment_type": "full",
    }


def client_info_path(location: str) -> str | None:
    """The client-information form's path from request-submit's redirect, or None when the
    redirect goes anywhere else (the form was refused)."""
    path = urlsplit(location).path
    parts = path.strip("/").split("/")
    if len(parts) == 4 and parts[:2] == ["appointment", "client-info"] and parts[2].isdigit():
        return path
    return None


def is_thank_you(location: str) -> bool:
    """Whether the client-information form redirected to the thank-you page: booked."""
    parts = urlsplit(location).path.strip("/").split("/")
    return len(parts) == 3 and parts[:2] == ["appointment", "thank-you"] and parts[2].isdigit()


@dataclass
class PeerResult:
    """Both sides at the peer's setup; ``error`` says why the peer is missing, if it is."""

    version: str = PEER_VERSION
    workers: int = PEER_WORKERS
    clients: int = PEER_CLIENTS
    peer: Run | None = None  # one record per booking: its two requests' summed latency
    peer_booked: int = 0  # thank-you redirects seen by the clients
    peer_created: int = -1  # appointments in the peer's database afterwards
    peer_distinct: int = -1  # … on how many distinct (staff, date, start) slots
    peer_bookable: int = 0
    ours: Run | None = None
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def peer_per_second(self) -> float:
        if self.peer is None or not self.peer.duration:
            return float("nan")
        return self.peer_booked / self.peer.duration

    @property
    def ours_booked(self) -> int:
        return self.ours.statuses.get(302, 0) if self.ours else 0

    @property
    def ours_per_second(self) -> float:
        if self.ours is None or not self.ours.duration:
            return float("nan")
        return self.ours_booked / self.ours.duration

    def rows(self) -> list[Row]:
        setup = f"at its setup ({self.workers} workers, {self.clients} clients)"
        if self.peer is None:
            return [
                Row(f"Peer django-appointment {self.version} {setup}", "not measured", self.error)
            ]
        peer_bps, ours_bps = self.peer_per_second, self.ours_per_second
        share = ratio(ours_bps, peer_bps)
        rows = [
            Row(
                f"Peer django-appointment {self.version} {setup}: bookings/s "
                "(p50 / p95 / p99 ms of a booking's two requests)",
                f"{fmt_num(peer_bps, 0)} ({_percentiles(self.peer)})",
                f"{self.peer_bookable} bookable slots",
                "",
                "",
                f"{self.peer_created}/{self.peer.count} in its database"
                + (
                    f" on {self.peer_distinct} slots"
                    if self.peer_distinct != self.peer_created
                    else ""
                )
                + (f", {self.peer.errors} errors" if self.peer.errors else "")
                + (f", {self.peer.server_errors}×5xx" if self.peer.server_errors else ""),
            )
        ]
        if self.ours is not None:
            rows.append(
                Row(
                    f"Our booking at the peer's setup ({self.workers} workers, {self.clients} "
                    "clients): bookings/s (p50 / p95 / p99 ms)",
                    f"{fmt_num(ours_bps, 0)} ({_percentiles(self.ours)})",
                    fmt_num(peer_bps, 0),
                    f"{fmt_num(share, 1)}×",
                    f"≥ {TARGET_RATIO:.0f}×",
                    verdict(share >= TARGET_RATIO)
                    + f", {self.ours_booked}/{self.ours.count} booked"
                    + (f", {self.ours.errors} errors" if self.ours.errors else ""),
                )
            )
        return rows


def _percentiles(run: Run) -> str:
    return " / ".join(fmt_num(run.ms(p), 0) for p in (50, 95, 99))


# --- the peer's environment -------------------------------------------------------------


def venv_dir(data_dir: Path) -> Path:
    return data_dir / "peer-venv"


def _uv() -> str:
    local = ROOT / ".tools" / "bin" / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    if not found:
        raise PeerUnavailable("uv not found (make install puts it in .tools/bin)")
    return found


def _installed(python: Path) -> dict[str, str]:
    if not python.exists():
        return {}
    script = (
        "import json, importlib.metadata as m;"
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    done = subprocess.run(
        [str(python), "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    return json.loads(done.stdout) if done.returncode == 0 else {}


def peer_ensure(data_dir: Path, log: Log) -> Path:
    """The peer's venv with django-appointment and the portal's Django; its python's path."""
    venv = venv_dir(data_dir)
    python = venv / "bin" / "python"
    pins = {PEER_PACKAGE: PEER_VERSION}
    pins.update(locked_versions((ROOT / "uv.lock").read_text(), SHARED_PACKAGES))
    missing = missing_requirements(pins, _installed(python))
    if not missing:
        log(f"peer: {PEER_PACKAGE} {PEER_VERSION} already in {venv}")
        return python
    uv = _uv()
    log(f"peer: installing {', '.join(missing)} into {venv}")
    try:
        if not python.exists():
            subprocess.run(
                [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
                check=True,
                capture_output=True,
                text=True,
                timeout=120,
            )
        subprocess.run(
            [uv, "pip", "install", "--quiet", "--python", str(python), *requirements(pins)],
            check=True,
            capture_output=True,
            text=True,
            timeout=INSTALL_LIMIT,
        )
    except subprocess.CalledProcessError as failed:
        last = (failed.stderr or failed.stdout or "").strip().splitlines()[-1:] or ["no output"]
        raise PeerUnavailable(f"could not install {PEER_PACKAGE}: {last[0]}") from failed
    except subprocess.TimeoutExpired as slow:
        raise PeerUnavailable(f"installing {PEER_PACKAGE} took over {slow.timeout:.0f} s") from slow
    return python


def _peer_env(database_url: str) -> dict[str, str]:
    return {
        "BENCH_PEER_DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "bench.peer_project.settings",
        # bench.peer_project, found from the peer's own interpreter.
        "PYTHONPATH": str(ROOT),
    }


def _tool(python: Path, env: dict[str, str], *args: str) -> str:
    try:
        done = subprocess.run(
            [str(python), "-m", "bench.peer_project.tool", *args],
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=SETUP_LIMIT,
            check=True,
        )
    except subprocess.CalledProcessError as failed:
        last = (failed.stderr or "").strip().splitlines()[-1:] or ["no output"]
        raise PeerUnavailable(f"peer tool {args[0]} failed: {last[0]}") from failed
    except subprocess.TimeoutExpired as slow:
        raise PeerUnavailable(f"peer tool {args[0]} took over {slow.timeout:.0f} s") from slow
    return done.stdout


# --- the two measurements -----------------------------------------------------------------


def measure_peer(data_dir: Path, log: Log, count: int = BOOKINGS) -> PeerResult:
    """Install, set up, serve and book the peer; the result carries its bookings' run."""
    from bench.run import _database_create
    from bench.server import Gunicorn

    result = PeerResult()
    python = peer_ensure(data_dir, log)
    url = os.environ.get("BENCH_PEER_DATABASE_URL", PEER_DB)
    _database_create(url)
    env = _peer_env(url)
    plan_path = data_dir / "peer-plan.json"
    _tool(python, env, "prepare", str(count), str(plan_path))
    # Its database is reused run after run too: the same vacuum as ours (bench/vacuum.py).
    vacuum_analyze(url)
    plan = json.loads(plan_path.read_text())
    result.peer_bookable = plan["bookable"]
    log(f"peer: {plan['bookable']} bookable slots, {len(plan['sessions'])} logged-in clients")
    server = Gunicorn(
        PEER_PORT,
        PEER_WORKERS,
        env,
        data_dir / "gunicorn-peer.log",
        python=str(python),
        app="bench.peer_project.wsgi:application",
        settings="bench.peer_project.settings",
        ready_path="/admin/login/",
        config=None,  # the peer's gunicorn as its project would run it
    )
    server.start()
    log(f"peer: gunicorn, {PEER_WORKERS} sync workers on 127.0.0.1:{PEER_PORT}")
    try:
        result.peer, result.peer_booked = asyncio.run(_book_peer(plan))
    finally:
        server.stop()
    counts = json.loads(_tool(python, env, "count"))
    result.peer_created = counts["appointments"]
    result.peer_distinct = counts["distinct_slots"]
    log(
        f"peer: {result.peer_booked} bookings in {result.peer.duration:.1f} s, "
        f"{result.peer_per_second:.0f}/s, p99 {result.peer.ms(99):.0f} ms, "
        f"statuses {result.peer.statuses}, errors {result.peer.errors}; "
        f"its database holds {result.peer_created} appointments on "
        f"{result.peer_distinct} distinct slots"
    )
    return result


async def _book_peer(plan: dict[str, Any]) -> tuple[Run, int]:
    """Warm the workers up, then book plan's slots: two requests a booking, one Run record
    a booking (the status of the request that decided it, the two latencies summed)."""
    from bench.run import csrf_secret

    target = Target("127.0.0.1", PEER_PORT)
    csrf = csrf_secret()
    sessions: list[str] = plan["sessions"]

    def cookies(n: int) -> dict[str, str]:
        return {plan["session_cookie"]: sessions[n % len(sessions)], plan["csrf_cookie"]: csrf}

    page = f"/appointment/request/{plan['service']}/"
    await closed_loop(
        target,
        Run("peer warm-up"),
        lambda n: Request("GET", page, cookies(n)),
        concurrency=PEER_CLIENTS,
        count=WARM_UP,
        time_limit=TIME_LIMIT,
    )
    bookings = Run("peer bookings")
    booked = 0

    def submit(n: int) -> Request:
        form = request_submit_form(csrf, plan["service"], plan["slots"][n])
        return Request("POST", "/appointment/request-submit/", cookies(n), form)

    async def confirm(n: int, first: Response) -> None:
        nonlocal booked
        path = client_info_path(first.headers.get("location", ""))
        if first.status != 302 or path is None:
            bookings.record(first.status, first.latency)
            return
        form = client_info_form(csrf, f"Client N{n % len(sessions)}")
        try:
            second = await fetch(target, Request("POST", path, cookies(n), form))
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
            bookings.errors += 1
            return
        bookings.record(second.status, first.latency + second.latency)
        if second.status == 302 and is_thank_you(second.headers.get("location", "")):
            booked += 1

    first_steps = await closed_loop(
        target,
        Run("peer request-submit"),
        submit,
        concurrency=PEER_CLIENTS,
        count=len(plan["slots"]),
        time_limit=TIME_LIMIT,
        on_response=confirm,
    )
    bookings.errors += first_steps.errors
    bookings.duration = first_steps.duration
    return bookings, booked


def measure_ours(
    env: dict[str, str],
    data_dir: Path,
    patients: "list[BenchPatient]",
    csrf: str,
    log: Log,
    count: int = BOOKINGS,
) -> Run:
    """The sustained booking phase's request on the portal's gunicorn at the peer's setup."""
    from bench import dataset
    from bench.run import PORT, booking_request, patient_cookies
    from bench.server import Gunicorn

    slots = dataset.sustained_slots(min(count, len(patients)))
    server = Gunicorn(PORT, PEER_WORKERS, env, data_dir / "gunicorn-peer-setup.log")
    target = Target("127.0.0.1", PORT)
    server.start()
    log(f"ours at the peer's setup: gunicorn, {PEER_WORKERS} sync workers on 127.0.0.1:{PORT}")
    try:

        async def load() -> Run:
            await closed_loop(
                target,
                Run("warm-up"),
                lambda n: Request("GET", "/booking/", patient_cookies(patients[n], csrf)),
                concurrency=PEER_CLIENTS,
                count=min(WARM_UP, len(patients)),
                time_limit=TIME_LIMIT,
            )
            return await closed_loop(
                target,
                Run("our booking at the peer's setup"),
                lambda n: booking_request(patients[n], csrf, slots[n]),
                concurrency=PEER_CLIENTS,
                count=len(slots),
                time_limit=TIME_LIMIT,
            )

        run = asyncio.run(load())
    finally:
        server.stop()
        dataset.bench_reset()
    log(
        f"ours at the peer's setup: {run.statuses.get(302, 0)} bookings in {run.duration:.1f} s, "
        f"p99 {run.ms(99):.0f} ms, statuses {run.statuses}, errors {run.errors}"
    )
    return run


def run_peer_phase(
    env: dict[str, str],
    data_dir: Path,
    patients: "list[BenchPatient]",
    csrf: str,
    log: Log,
) -> PeerResult | None:
    """Both sides, peer first; None when BENCH_PEER=0. A peer that cannot be installed or
    set up leaves a result with the reason and no measurement of ours (nothing to compare)."""
    if os.environ.get("BENCH_PEER", "1") == "0":
        log("peer: skipped (BENCH_PEER=0)")
        return None
    try:
        result = measure_peer(data_dir, log)
    except (
        PeerUnavailable,
        RuntimeError,
        OSError,
        ValueError,
        KeyError,
        subprocess.SubprocessError,
    ) as failed:
        log(f"peer: NOT MEASURED — {failed}; the rest of the bench goes on")
        return PeerResult(error=str(failed))
    result.ours = measure_ours(env, data_dir, patients, csrf, log)
    ratio_now = ratio(result.ours_per_second, result.peer_per_second)
    log(f"peer: ours / peer at the peer's setup = {ratio_now:.1f}× (target ≥ {TARGET_RATIO:.0f}×)")
    return result


def main() -> int:
    """`make bench-peer`: the portal's bench database and patients, then this phase alone."""
    import django

    from bench import run

    env = run._environment()
    run._database_create(env["DATABASE_URL"])
    django.setup()
    from bench import dataset

    data_dir = Path(env["PORTAL_DATA_DIR"])
    dataset.dataset_ensure(run.SCALE, data_dir / "dataset.json", env, run.log)
    dataset.bench_reset()
    patients = dataset.bench_patients(BOOKINGS)
    os.environ.setdefault("BENCH_PEER", "1")
    result = run_peer_phase(env, data_dir, patients, run.csrf_secret(), run.log)
    if result is not None:
        print()
        print(table_markdown(result.rows()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
