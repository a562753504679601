"""`make bench`: build the region once, start gunicorn, run every phase, print one table.

Phases (issue 6): framework floor, pages, slot search (ORM vs raw SQL), database floor
and sustained booking at the same concurrency, the 07:00 rush, peak worker RSS.
Load goes to 127.0.0.1 only; every loop is bounded by a count and a time limit.
"""

import asyncio
import datetime
import os
import platform
import secrets
import string
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.dataset import BenchPatient, WizardPath
    from bench.loadgen import Request

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/portal_bench"

# Sizes. The rush figures are the issue's; the rest keep `make bench` well under 15 min.
SCALE = int(os.environ.get("BENCH_SCALE", "3"))
PORT = int(os.environ.get("BENCH_PORT", "18400"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
RUSH_PATIENTS = int(os.environ.get("BENCH_RUSH_PATIENTS", "500"))
RUSH_SLOTS = int(os.environ.get("BENCH_RUSH_SLOTS", "50"))
PATIENTS = max(RUSH_PATIENTS, 1000)
FLOOR_REQUESTS = 3000
PAGE_REQUESTS = 600
PAGE_FLOOR_REQUESTS = 2000  # the floor beside each page: about a second
# The floor and the page take turns, this many each, and each adds up its turns: the
# machine's speed swings by a fifth and more within seconds (docs/performance.md, «The
# floor and the page in turns»), which one floor measured before the page would carry
# into the page's ratio.
PAGE_TURNS = 4
# Each page's warm-up, from patients the measured turns never use (the last ones): enough
# requests that every worker serves the page a few times before it is measured.
PAGE_WARM_REQUESTS = 50
BOOKINGS = 1000
SEARCHES = 300
PHASE_LIMIT = 20.0  # seconds, per page or booking phase


def _environment() -> dict[str, str]:
    env = {
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB),
        "PORTAL_DATA_DIR": os.environ.get("BENCH_DATA_DIR", str(ROOT / "data" / "bench")),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
    }
    os.environ.update(env)
    Path(env["PORTAL_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    return {**os.environ, **env}


def _database_create(url: str) -> None:
    """CREATE DATABASE when missing: `make bench` runs from a fresh clone."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def csrf_secret() -> str:
    """A CSRF secret of Django's length (32 letters and digits) for the bench's cookie and forms."""
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def patient_cookies(patient: "BenchPatient", csrf: str) -> dict[str, str]:
    from django.conf import settings

    return {settings.SESSION_COOKIE_NAME: patient.session_key, settings.CSRF_COOKIE_NAME: csrf}


def booking_request(patient: "BenchPatient", csrf: str, slot_id: int) -> "Request":
    """A patient's booking of a slot: the confirmation form's POST (an idempotency key each)."""
    from bench.loadgen import Request

    form = {"csrfmiddlewaretoken": csrf, "key": str(uuid.uuid4())}
    return Request("POST", f"/booking/slot/{slot_id}/", patient_cookies(patient, csrf), form)


def bench_pages(path: "WizardPath") -> dict[str, str]:
    """The patient pages `make bench` measures, by label: a patient's own pages, then the
    wizard along ``path`` and the nearest-time search."""
    return {
        "Кабинет /cabinet/": "/cabinet/",
        "«Мои записи» /appointments/": "/appointments/",
        "Запись: районы /booking/": "/booking/",
        "Запись: организации района": f"/booking/district/{path.district_id}/",
        "Запись: специальности": f"/booking/clinic/{path.clinic_id}/",
        "Запись: врачи": f"/booking/clinic/{path.clinic_id}/specialty/{path.specialty_id}/",
        "Запись: дни врача": f"/booking/doctor/{path.doctor_id}/",
        "Запись: время на день": f"/booking/doctor/{path.doctor_id}/{path.day}/",
        "Запись: подтверждение": f"/booking/slot/{path.slot_id}/",
        "Ближайшее свободное время": (
            f"/booking/nearest/?specialty={path.specialty_id}&place={path.district_id}"
        ),
    }


def main() -> int:
    env = _environment()
    _database_create(env["DATABASE_URL"])
    import django

    django.setup()

    from django.conf import settings

    from bench import dataset, dbfloor, fhir, search
    from bench.loadgen import Request, Target, closed_loop
    from bench.machine import LoadLog, redis_address
    from bench.report import Report
    from bench.server import Gunicorn, workers_for
    from bench.stats import Run

    started = time.monotonic()
    data_dir = Path(env["PORTAL_DATA_DIR"])
    dataset.dataset_ensure(SCALE, data_dir / "dataset.json", env, log)
    facts = dataset.dataset_facts()
    log(f"dataset: {facts}")
    dataset.bench_reset()
    patients = dataset.bench_patients(PATIENTS)
    log(f"{len(patients)} bench patients with fresh sessions")
    from bench.vacuum import vacuum_analyze

    def vacuumed(before: str) -> None:
        """The dead rows of earlier runs and phases gone, as autovacuum would have them."""
        seconds = vacuum_analyze(env["DATABASE_URL"])
        log(f"VACUUM (ANALYZE) before {before}: {seconds:.1f} s")

    vacuumed("the first phase")

    csrf = csrf_secret()

    def cookies(n: int) -> dict[str, str]:
        return patient_cookies(patients[n % len(patients)], csrf)

    def book_request(n: int, slot_id: int) -> Request:
        return booking_request(patients[n % len(patients)], csrf, slot_id)

    workers = workers_for(os.cpu_count() or 1)
    server = Gunicorn(PORT, workers, env, data_dir / "gunicorn.log")
    target = Target("127.0.0.1", PORT)
    report = Report(workers=workers, concurrency=CONCURRENCY, facts=facts)
    # Foreign load per phase (bench/machine.py): our databases' backends and the Redis
    # the portal's sessions live in are not foreign.
    loads = report.loads = LoadLog(
        (env["DATABASE_URL"].rsplit("/", 1)[1], "bench_peer"),
        redis=redis_address(settings.REDIS_URL),
    )
    phase = loads.phase
    # The peer (issue 25, bench/peer.py): django-appointment and our booking at its setup
    # (3 workers, 8 clients), each on its own gunicorn before the main one starts.
    from bench import peer

    with phase("peer and ours at its setup"):
        report.peer = peer.run_peer_phase(env, data_dir, patients, csrf, log)
    server.start()
    log(f"gunicorn: {workers} sync workers on 127.0.0.1:{PORT}")
    try:

        def loaded(run: Run, make, count: int) -> Run:
            asyncio.run(
                closed_loop(
                    target,
                    run,
                    make,
                    concurrency=CONCURRENCY,
                    count=count,
                    time_limit=PHASE_LIMIT,
                )
            )
            return run

        def logged(run: Run, how: str = "") -> Run:
            log(
                f"{run.name}: {run.count} requests{how}, {run.per_second:.0f}/s, "
                f"p95 {run.ms(95):.0f} ms, statuses {run.statuses}, errors {run.errors}"
            )
            return run

        def load(name: str, make, count: int) -> Run:
            with phase(name):
                run = loaded(Run(name), make, count)
            return logged(run)

        def page_in_turns(label: str, url: str) -> tuple[Run, Run]:
            """The floor and the page, PAGE_TURNS turns each, as two runs; every request
            of the page from another patient, as in one run of PAGE_REQUESTS."""
            floors: list[Run] = []
            turns: list[Run] = []
            per_turn = PAGE_REQUESTS // PAGE_TURNS
            with phase(label):
                for turn in range(PAGE_TURNS):
                    floors.append(
                        loaded(
                            Run("framework floor"),
                            lambda n: Request("GET", "/__bench__/floor"),
                            PAGE_FLOOR_REQUESTS // PAGE_TURNS,
                        )
                    )
                    first = turn * per_turn
                    turns.append(
                        loaded(
                            Run(label),
                            lambda n, first=first: Request("GET", url, cookies(first + n)),
                            per_turn,
                        )
                    )
            how = f" in {PAGE_TURNS} turns"
            return (
                logged(Run.joined(f"framework floor beside {label}", floors), how),
                logged(Run.joined(label, turns), how),
            )

        def pages_warm(pages: dict[str, str]) -> None:
            """Every page served by every worker before any is measured. A worker's first
            request of a page compiles the page's statements and fills its per-process
            caches: 3–11 ms once in the worker's life, which every worker would otherwise
            add to the page's 600 measured requests (docs/performance.md, «Each page warmed
            before it is measured»). From the last patients, whom the measured turns never
            use, so no measured patient's own kept parts (the account menu) are warm."""
            first = len(patients) - PAGE_WARM_REQUESTS
            assert first >= PAGE_REQUESTS, "the warm-up's patients overlap the measured ones"
            warm = Run("pages warmed")  # not a measured phase: not in the report
            for url in pages.values():
                loaded(
                    warm,
                    lambda n, url=url: Request("GET", url, cookies(first + n)),
                    PAGE_WARM_REQUESTS,
                )
            log(f"pages warmed: {warm.count} requests, statuses {warm.statuses}")

        # Warm every worker: imports, templates, connections.
        load("warm-up", lambda n: Request("GET", "/booking/", cookies(n)), 100)

        def sessions_touched() -> None:
            """Every bench session in Redis and touched this minute, so that no measured
            phase pays the once-a-minute session write (an UPDATE and its commit, a Redis
            SET) for whichever patients happen to come first after a long phase: without
            this the first page after the booking phases (the cabinet) paid it on every
            request and the others on none (docs/performance.md, «Pages, second pass»)."""
            touch = Run("sessions touched")  # not a measured phase: not in the report
            asyncio.run(
                closed_loop(
                    target,
                    touch,
                    lambda n: Request("GET", "/__bench__/floor", cookies(n)),
                    concurrency=CONCURRENCY,
                    count=len(patients),
                    time_limit=PHASE_LIMIT,
                )
            )

        report.floor = load(
            "framework floor", lambda n: Request("GET", "/__bench__/floor"), FLOOR_REQUESTS
        )
        sessions_touched()
        report.floor_session = load(
            "framework floor + session",
            lambda n: Request("GET", "/__bench__/floor", cookies(n)),
            FLOOR_REQUESTS,
        )

        # Sustained booking: distinct slots, one per patient, same concurrency both ways.
        slots = dataset.sustained_slots(BOOKINGS)
        jobs = [
            dbfloor.Job(p.user_id, p.patient_id, s) for p, s in zip(patients, slots, strict=False)
        ]
        with phase("database floor"):
            report.db_floor = dbfloor.run_db_floor(
                env["DATABASE_URL"], jobs, concurrency=CONCURRENCY, time_limit=PHASE_LIMIT
            )
        log(
            f"database floor: {report.db_floor.count} bookings, "
            f"{report.db_floor.per_second:.0f}/s, statuses {report.db_floor.statuses}"
        )
        dataset.bench_reset()
        from bench import pgbench_floor

        with phase("pgbench floor"):
            report.pgbench_floor = pgbench_floor.run_pgbench_floor(
                env["DATABASE_URL"], jobs, concurrency=CONCURRENCY, time_limit=PHASE_LIMIT
            )
        if report.pgbench_floor is not None:
            log(f"pgbench floor: {report.pgbench_floor.per_second:.0f} bookings/s")
        else:
            log("pgbench not found, its row left out (apt-get install postgresql-client)")
        dataset.bench_reset()
        report.booking = load(
            "sustained booking", lambda n: book_request(n, jobs[n].slot_id), len(jobs)
        )

        # Notifications (issue 12): the outbox's cost to booking, and one worker's rate.
        from bench import notify

        with phase("outbox"):
            report.notify = notify.run_notify_phases(patients, log)
        dataset.bench_reset()

        # The waitlist (issue 14): matching a freed slot against 10 000 waiting entries.
        from bench import waitlist

        with phase("waitlist"):
            report.waitlist = waitlist.run_waitlist_phase(log)

        # Pages, as a patient who holds one appointment sees them (most who open the portal
        # do): every bench patient books one of another specialty than the wizard's first,
        # so «Мои записи» and the cabinet list it, and the wizard, «Подтверждение» and
        # «Ближайшее свободное время» are the full pages of a patient free to book the
        # wizard's specialty (docs/performance.md, «Pages with an appointment held»).
        held = dataset.appointments_hold(patients)
        log(f"pages: every bench patient holds an appointment ({held} of {dataset.HELD_SPECIALTY})")
        vacuumed("the pages")
        pages = bench_pages(dataset.wizard_path())
        pages_warm(pages)
        for label, url in pages.items():
            sessions_touched()  # 1,000 requests, about 1.5 s: each page from the same state
            # The floor again, beside the page and in turns with it: a shared virtual
            # machine's speed drifts by a fifth over the minutes of these phases and swings
            # as much within seconds (docs/performance.md, «The framework floor beside each
            # page», «The floor and the page in turns»).
            report.page_floors[label], report.pages[label] = page_in_turns(label, url)
        dataset.bench_reset()
        report.api.update(fhir.run_fhir(load, patients, [j.slot_id for j in jobs], PORT))

        with phase("slot search"):
            report.search = search.run_search(
                env["DATABASE_URL"],
                SEARCHES,
                (dataset.SUSTAINED_SPECIALTY, dataset.RUSH_DISTRICT),
            )
        log(
            f"slot search: ORM p95 {search.p(report.search.orm, 95):.1f} ms, "
            f"raw p95 {search.p(report.search.raw, 95):.1f} ms"
        )

        # The rush, both ways on the same 50 slots (issue 14, bench/rush.py): first come
        # and the fair release, a third of the patients aggressive, two thirds polite.
        from bench import rush

        vacuumed("the rush")

        with phase("the rush, both ways"):
            report.rush_compare = rush.run_rush_both(
                PORT, patients, cookies, csrf, RUSH_SLOTS, RUSH_PATIENTS, log
            )
        report.facts["rush_slots"] = report.rush_compare.first_come.slots
        report.rss = server.peak_rss_mb()
    finally:
        server.stop()
        dataset.bench_reset()

    report.machine = machine_facts()
    report.elapsed = time.monotonic() - started
    table = report.table()
    print()
    print(table)
    print()
    print(loads.summary())
    for warning in loads.warnings():
        print(warning)
    out = data_dir / "latest.md"
    out.write_text(report.markdown())
    docs = ROOT / "docs" / "performance.md"
    if docs.exists() and os.environ.get("BENCH_WRITE_DOCS", "1") == "1":
        report.update_docs(docs)
        log(f"table written to {docs.relative_to(ROOT)} and {out}")
    log(f"done in {report.elapsed / 60:.1f} min")
    return 0


def machine_facts() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "date": datetime.date.today().isoformat(),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "postgresql": pg,
        "python": platform.python_version(),
    }


if __name__ == "__main__":
    sys.exit(main())
