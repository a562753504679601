"""Workers forked warm against workers that warm themselves, interleaved in one run
(docs/performance.md, «Workers forked warm»):

    uv run python -m bench.forked_warm [ROUNDS]

Two gunicorns on the bench region, the same five sync workers: one as gunicorn starts by
default (each worker imports and compiles what it needs on its first requests), one with
the portal's settings (`portal/gunicorn_conf.py`: loaded and warmed in the master, forked
warm). Each round restarts both, one after the other, and gives each alone:

- an opening: 334 requests of «Ближайшее свободное время» at once (the fair release's
  first second, bench/rush.py) to workers that have served nothing yet;
- then the floor with a session and four patient pages, back to back.

Reported per design: the opening's wall time and p99, and per steady phase requests per
second and the workers' CPU per request (utime + stime from /proc), medians over rounds.
"""

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

OPENING = 334  # 167 aggressive patients x 2 connections (bench/rush.py)
STEADY = 600
CONCURRENCY = 16
PORTS = {"self-warmed": 18411, "forked warm": 18412}


def _cpu_seconds(pids: list[int]) -> float:
    """The workers' CPU so far (user and system time, from /proc)."""
    from bench.machine import parse_stat

    total = 0.0
    for pid in pids:
        try:
            total += parse_stat(Path(f"/proc/{pid}/stat").read_text())[1]
        except OSError:  # a worker gone meanwhile
            continue
    return total


def _rounds(argv: list[str]) -> int:
    if not argv:
        return 4
    if not argv[0].isdigit() or int(argv[0]) < 1:
        raise SystemExit("usage: python -m bench.forked_warm [ROUNDS] (a whole number ≥ 1)")
    return int(argv[0])


def main() -> int:
    rounds = _rounds(sys.argv[1:])
    from bench import run as bench_run

    env = bench_run._environment()
    import django

    django.setup()
    from bench import dataset
    from bench.loadgen import Request, Target, closed_loop
    from bench.server import PORTAL_CONFIG, Gunicorn, workers_for
    from bench.stats import Run

    data_dir = Path(env["PORTAL_DATA_DIR"])
    dataset.dataset_ensure(bench_run.SCALE, data_dir / "dataset.json", env, bench_run.log)
    dataset.bench_reset()
    patients = dataset.bench_patients(1000)
    dataset.appointments_hold(patients)
    csrf = bench_run.csrf_secret()
    path = dataset.wizard_path()
    nearest = f"/booking/nearest/?specialty={path.specialty_id}&place={path.district_id}"
    steady = {
        "floor + session": "/__bench__/floor",
        "cabinet": "/cabinet/",
        "Мои записи": "/appointments/",
        "время на день": f"/booking/doctor/{path.doctor_id}/{path.day}/",
        "nearest": nearest,
    }

    def cookies(n: int) -> dict[str, str]:
        return bench_run.patient_cookies(patients[n % len(patients)], csrf)

    workers = workers_for(os.cpu_count() or 1)
    results: dict[str, dict[str, list[float]]] = {name: {} for name in PORTS}

    def add(design: str, measure: str, value: float) -> None:
        results[design].setdefault(measure, []).append(value)

    def load(server: Gunicorn, url: str, count: int, concurrency: int) -> tuple[Run, float]:
        pids = server.worker_pids()
        cpu = _cpu_seconds(pids)
        run = Run(url)
        make: Callable[[int], Request] = lambda n: Request("GET", url, cookies(n))  # noqa: E731
        asyncio.run(
            closed_loop(
                Target("127.0.0.1", server.port, timeout=60),
                run,
                make,
                concurrency=concurrency,
                count=count,
                time_limit=60,
            )
        )
        return run, (_cpu_seconds(pids) - cpu) / max(run.count, 1) * 1000

    try:
        for number in range(rounds):
            order = list(PORTS) if number % 2 == 0 else list(reversed(PORTS))
            for design in order:
                config = PORTAL_CONFIG if design == "forked warm" else None
                log_path = data_dir / f"gunicorn-{PORTS[design]}.log"
                server = Gunicorn(PORTS[design], workers, env, log_path, config=config)
                began = time.monotonic()
                server.start()
                add(design, "start to ready (s)", time.monotonic() - began)
                try:
                    time.sleep(1.0)  # the ready probe's worker settles
                    opening, cpu = load(server, nearest, OPENING, OPENING)
                    add(design, "opening: wall (s)", opening.duration)
                    add(design, "opening: p99 (ms)", opening.ms(99))
                    add(design, "opening: worker CPU per request (ms)", cpu)
                    for label, url in steady.items():
                        done, cpu = load(server, url, STEADY, CONCURRENCY)
                        add(design, f"{label}: req/s", done.per_second)
                        add(design, f"{label}: worker CPU per request (ms)", cpu)
                finally:
                    server.stop()
            bench_run.log(f"round {number + 1}/{rounds} done; load {os.getloadavg()}")
    finally:
        dataset.bench_reset()

    names = list(results["self-warmed"])
    print(f"\n{'measure':45} {'self-warmed':>12} {'forked warm':>12}  ratio")
    for measure in names:
        a = statistics.median(results["self-warmed"][measure])
        b = statistics.median(results["forked warm"][measure])
        print(f"{measure:45} {a:12.2f} {b:12.2f}  {b / a:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
