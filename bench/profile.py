"""`make bench-profile`: where one request's time and statements go, in-process.

Runs the portal's WSGI handler through Django's test client, with the per-request
connection reset a served request has (`bench.served_client`), against the benchmark
database (built by `make bench`), with bench.settings (production settings, DEBUG off):

- statements per request for a booking and each page (CaptureQueriesContext);
- milliseconds per request, measured in this one process, so no queueing is counted;
- the top entries of a pyinstrument profile of N bookings and N cabinet pages.

Prints a markdown block that docs/performance.md quotes before and after a change.

`python -m bench.profile cpu` measures instead what does not depend on the machine's load:
the CPU time of a request (this process's `time.process_time` plus the PostgreSQL
backend's own run time from /proc/<pid>/schedstat) for every page of `make bench`, the
framework floor and the trivial view with a session, in interleaved rounds (median),
and each page over the trivial view with a session (docs/performance.md, issue 25).
`python -m bench.profile booking` does the same for the booking POST alone.
"""

import itertools
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench import run

N = int(os.environ.get("BENCH_PROFILE_N", "200"))
TOP = 12
# The CPU mode: rounds of ROUND_N requests per page, interleaved so drift hits all alike.
ROUNDS = int(os.environ.get("BENCH_PROFILE_ROUNDS", "6"))
ROUND_N = int(os.environ.get("BENCH_PROFILE_ROUND_N", "40"))


def main() -> int:
    env = run._environment()
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    from bench import dataset
    from bench.served_client import ServedClient
    from portal.scheduling.models import Slot

    if not Slot.objects.exists():
        print("no benchmark dataset: run `make bench` once first", file=sys.stderr)
        return 1
    del env
    dataset.bench_reset()
    booking_mode = sys.argv[1:] == ["booking"]
    # The booking mode: a patient of its own for every POST (one booking per specialty).
    users = max(N, ROUNDS * ROUND_N + 2) if booking_mode else N
    patients = dataset.bench_patients(users)
    slots = dataset.sustained_slots(2 * users + 10, seed=11)
    path = dataset.wizard_path()
    headers = {"X-Forwarded-Proto": "https", "User-Agent": "portal-bench"}
    csrf = "b" * 32

    def client(n: int) -> ServedClient:
        c = ServedClient(enforce_csrf_checks=True, headers=headers)
        c.cookies[settings.SESSION_COOKIE_NAME] = patients[n % len(patients)].session_key
        c.cookies[settings.CSRF_COOKIE_NAME] = csrf
        return c

    clients = [client(n) for n in range(users)]
    slot_iter = iter(slots)
    anonymous = ServedClient(headers=headers)

    def book(n: int) -> None:
        response = clients[n].post(
            f"/booking/slot/{next(slot_iter)}/",
            {"csrfmiddlewaretoken": csrf, "key": str(uuid.uuid4())},
            HTTP_ORIGIN="https://testserver",
            secure=True,
        )
        assert response.status_code == 302, response.status_code

    def page(url: str) -> Callable[[int], None]:
        def get(n: int) -> None:
            response = clients[n].get(url, secure=True)
            assert response.status_code == 200, (url, response.status_code)

        return get

    pages = {
        "booking POST": book,
        "/cabinet/": page("/cabinet/"),
        "/appointments/": page("/appointments/"),
        "wizard: districts": page("/booking/"),
        "wizard: doctor's days": page(f"/booking/doctor/{path.doctor_id}/"),
        "wizard: times": page(f"/booking/doctor/{path.doctor_id}/{path.day}/"),
        "wizard: confirm": page(f"/booking/slot/{path.slot_id}/"),
        "nearest": page(
            f"/booking/nearest/?specialty={path.specialty_id}&place={path.district_id}"
        ),
    }
    if booking_mode:
        # The booking POST's own CPU (client + database), against the trivial view with
        # a session: every POST books a new slot, each patient at most once per round.
        fresh = itertools.count()
        calls = {
            "trivial view with a session": page("/__bench__/floor"),
            "booking POST": lambda n: book(next(fresh)),
        }
        print("\n".join(_cpu_table(calls, connection, len(clients))))
        dataset.bench_reset()
        return 0
    if sys.argv[1:] == ["cpu"]:
        # As `make bench` measures its pages: every patient holds one appointment of another
        # specialty than the wizard's (`dataset.appointments_hold`), so «Мои записи» and the
        # cabinet list it and the confirmation and nearest-time pages are the full pages.
        dataset.appointments_hold(patients)
        for n in range(len(clients)):  # every session touched this minute, as in make bench
            page("/__bench__/floor")(n)
        everything = {
            "framework floor (no session)": lambda n: _ok(
                anonymous.get("/__bench__/floor", secure=True)
            ),
            "trivial view with a session": page("/__bench__/floor"),
            "/cabinet/": pages["/cabinet/"],
            "/appointments/": pages["/appointments/"],
            "wizard: districts": pages["wizard: districts"],
            "wizard: clinics": page(f"/booking/district/{path.district_id}/"),
            "wizard: specialties": page(f"/booking/clinic/{path.clinic_id}/"),
            "wizard: doctors": page(
                f"/booking/clinic/{path.clinic_id}/specialty/{path.specialty_id}/"
            ),
            "wizard: doctor's days": pages["wizard: doctor's days"],
            "wizard: times": pages["wizard: times"],
            "wizard: confirm": pages["wizard: confirm"],
            "nearest": pages["nearest"],
        }
        print("\n".join(_cpu_table(everything, connection, len(clients))))
        dataset.bench_reset()
        return 0
    lines = [f"In-process, {N} requests each (Django test client, bench.settings):", ""]
    lines += ["| Request | ms per request | statements | statement kinds |", "|---|---|---|---|"]

    def touch_sessions() -> None:
        """As in `make bench`: every session already touched this minute and in Redis,
        so the figures are a steady state's, not a first request's session write."""
        for c in clients:
            c.get("/__bench__/floor", secure=True)

    for label, call in pages.items():
        call(0)  # warm: templates, prepared plans, the session cache
        touch_sessions()
        with CaptureQueriesContext(connection) as captured:
            call(1)
            # Read inside: the request_started signal resets the log the context slices.
            queries = list(connection.queries)
        del captured
        kinds = Counter(_kind(q["sql"]) for q in queries)
        started = time.perf_counter()
        for n in range(2, N):
            call(n)
        ms = (time.perf_counter() - started) * 1000 / (N - 2)
        summary = ", ".join(f"{k} {v}" for k, v in kinds.most_common())
        lines.append(f"| {label} | {ms:.1f} | {len(queries)} | {summary} |")
        if os.environ.get("BENCH_PROFILE_SQL") == label:
            for q in queries:
                print(q["sql"][:300])
    dataset.bench_reset()

    for label in ("booking POST", "/cabinet/"):
        touch_sessions()
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for n in range(N):
            pages[label](n)
        profiler.stop()
        lines += ["", f"Profile of {N} × {label}: top {TOP} by own time", "", "```"]
        lines += _top(profiler, TOP)
        lines += ["```"]
        dataset.bench_reset()
    print("\n".join(lines))
    return 0


def _ok(response: Any) -> None:
    assert response.status_code == 200, response.status_code


def _backend_ns(connection: Any) -> int:
    """The PostgreSQL backend's CPU time so far (ns): it runs on this machine, and
    schedstat counts in nanoseconds where /proc/<pid>/stat counts in 10 ms ticks."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def _cpu_table(calls: dict[str, Callable[[int], None]], connection: Any, users: int) -> list[str]:
    """CPU ms per request (this process + the database backend), median over rounds."""
    from django.db import reset_queries
    from django.test.utils import CaptureQueriesContext

    statements = {}
    for label, call in calls.items():
        call(0)  # warm: templates, compiled statements, the directory's cache
        with CaptureQueriesContext(connection):
            call(1)
            statements[label] = len(connection.queries)
    reset_queries()
    client_ms: dict[str, list[float]] = {label: [] for label in calls}
    db_ms: dict[str, list[float]] = {label: [] for label in calls}
    at = 0
    for _ in range(ROUNDS):
        for label, call in calls.items():
            started, backend = time.process_time(), _backend_ns(connection)
            for i in range(ROUND_N):
                call((at + i) % users)
            client_ms[label].append((time.process_time() - started) * 1000 / ROUND_N)
            db_ms[label].append((_backend_ns(connection) - backend) / 1e6 / ROUND_N)
        at += ROUND_N
    total = {
        k: statistics.median(a + b for a, b in zip(client_ms[k], db_ms[k], strict=True))
        for k in calls
    }
    session = total["trivial view with a session"]
    lines = [
        f"CPU per request, median of {ROUNDS} rounds × {ROUND_N} (client process_time"
        " + PostgreSQL backend):",
        "",
        "| Request | statements | client ms | database ms | total ms | × session |",
        "|---|---|---|---|---|---|",
    ]
    for label in calls:
        c, d = statistics.median(client_ms[label]), statistics.median(db_ms[label])
        lines.append(
            f"| {label} | {statements[label]} | {c:.2f} | {d:.2f} | {total[label]:.2f}"
            f" | {total[label] / session:.2f} |"
        )
    return lines


def _kind(sql: str) -> str:
    word = sql.lstrip().split(None, 1)[0].upper()
    if word == "SELECT" and "FOR UPDATE" in sql:
        return "SELECT FOR UPDATE"
    return word


def _top(profiler: object, count: int) -> list[str]:
    """Own time per function (file:function), summed over the call tree."""
    session = profiler.last_session  # type: ignore[attr-defined]
    root = session.root_frame()
    own: Counter[str] = Counter()
    total = root.time if root is not None else 0.0

    def walk(frame: Any) -> None:
        if frame.is_synthetic:  # pyinstrument's "[self]" leaves: counted by total_self_time
            return
        own[f"{_short(frame.file_path)}:{frame.function}"] += frame.total_self_time
        for child in frame.children:
            walk(child)

    if root is not None:
        walk(root)
    area: Counter[str] = Counter()
    for name, t in own.items():
        parts = name.split(":", 1)[0].split("/")
        # Django by its sub-package (db = the ORM, template, core = request handling, ...).
        area["/".join(parts[:2]) if parts[0] in {"django", "portal"} else parts[0]] += t
    out = [f"{t / total * 100:5.1f} %  {name}" for name, t in own.most_common(count)]
    out += ["", "own time by package:"]
    out += [f"{t / total * 100:5.1f} %  {name}" for name, t in area.most_common(10)]
    return out


def _short(path: str | None) -> str:
    if not path:
        return "?"
    for marker in ("site-packages/", "lib/python3.11/", "/perf/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


if __name__ == "__main__":
    sys.exit(main())
