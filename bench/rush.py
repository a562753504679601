"""The 07:00 rush, measured both ways on the same data (issue 14; docs/fair-release.md).

500 patients, 50 slots; every third patient is "aggressive" (parallel connections,
instant retries), the rest "polite" (one try, as a person would). Two designs, one run:

- first come: the slots open at T; everyone searches and books (today's portal);
- fair release: the same 50 slots under ballots that collect requests until T; at T the
  draw runs (here, in a worker process of its own, `bench.draw_worker`) and the result page tells.

For each: slots allocated, double bookings, 5xx, p50/p95/p99 of every request, and the
success rate of aggressive vs polite clients with its 95 % interval (Katz log method).
`python -m bench.rush` runs this phase alone; `make bench` runs it with the rest.
`BENCH_RUSH_TIMELINE=<file>` writes every request of both columns to a JSON file (kind, sent
and answered in seconds from the opening, status) and each opening's wall-clock time: how
fast the opening burst drains (docs/performance.md, «The opening burst, second by second»).
With `BENCH_REQUEST_LOG=<dir>` as well, the workers log each request's time in them
(bench/request_log.py), read against the same opening.
"""

import asyncio
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.loadgen import Request, Response, Target, fetch
from bench.stats import RatioInterval, Row, Run, fmt_num, percentile, rate_ratio_katz, verdict

AGGRESSIVE_EVERY = 3  # patient n is aggressive when n % 3 == 0: a third of them
# Sized so that one run finishes within minutes on a 2-core machine shared with other
# work; raise them (BENCH_RUSH_* below) on a quiet one.
PARALLEL = int(os.environ.get("BENCH_RUSH_PARALLEL", "2"))  # an aggressive client's connections
SEARCHES = 10  # first come: searches per connection before giving up (an empty list ends it)
REQUEST_REPEATS = 3  # fair release: each aggressive connection re-sends the request
POLLS = 20  # fair release: result-page polls per aggressive connection, 0.5 s apart
# Requests are made during this window before opening (in life: hours or days). It must
# let the server absorb them: a request that queues past the opening is refused as late.
COLLECT_SECONDS = float(os.environ.get("BENCH_RUSH_COLLECT", "120"))
LIMIT = 240.0  # a client's patience with one request
FIRST_COME_LIMIT = 180.0  # first come: no new request after this (today's rush: 139 s)
P99_TARGET_S = 1.0
DRAW_TARGET_S = 1.0  # from the opening to the results the patients poll for
SLOT_LINK = re.compile(rb'href="/booking/slot/(\d+)/"')
REQUEST_LINK = re.compile(r"/release/requests/(\d+)/")


def is_aggressive(n: int) -> bool:
    return n % AGGRESSIVE_EVERY == 0


@dataclass
class Column:
    name: str
    run: Run
    won: dict[int, bool] = field(default_factory=dict)  # patient index → got a slot
    check: Any = None  # bench.dataset.RushCheck
    slots: int = 0
    draw_seconds: float = float("nan")
    draw_cpu: float = float("nan")
    # The draws' follow-up task and the losers' messages, run by the same worker after
    # the results while the rush goes on (bench/draw_worker.py).
    follow_up_seconds: float = float("nan")
    follow_up_cpu: float = float("nan")
    # Latencies by kind of request and by phase (before or after the opening): which
    # requests make the p99 (docs/performance.md, «The opening burst, second by second»).
    kinds: dict[str, list[float]] = field(default_factory=dict)
    opens_at: float = float("nan")  # time.time() of the opening
    # (kind, sent and answered in seconds from the opening, status) of every request, for
    # `BENCH_RUSH_TIMELINE` (a JSON file): where in the opening burst the p99 is made.
    timeline: list[tuple[str, float, float, int]] = field(default_factory=list)

    def rates(self, patients: int) -> tuple[int, int, int, int]:
        aggressive = [n for n in range(patients) if is_aggressive(n)]
        polite = [n for n in range(patients) if not is_aggressive(n)]
        return (
            sum(self.won.get(n, False) for n in aggressive),
            len(aggressive),
            sum(self.won.get(n, False) for n in polite),
            len(polite),
        )

    def fairness(self, patients: int) -> RatioInterval:
        return rate_ratio_katz(*self.rates(patients))

    def by_kind(self) -> str:
        """«ask before 2 310 (1 000)»: which requests carry the tail, and when."""
        return "; ".join(
            f"{kind} {fmt_num(percentile(values, 99) * 1000, 0)} ({len(values)})"
            for kind, values in sorted(self.kinds.items())
        )


@dataclass
class Comparison:
    patients: int
    first_come: Column
    fair: Column

    def rows(self) -> list[Row]:
        fc, fr = self.first_come, self.fair

        def both(what: str, cell: Callable[[Column], str], target: str, ok: bool | None) -> Row:
            return Row(
                what, f"fair: {cell(fr)}", f"first come: {cell(fc)}", "", target, verdict(ok)
            )

        def allocated(c: Column) -> str:
            return f"{c.check.booked_slots} / {c.slots}"

        def faults(c: Column) -> str:
            return f"{c.check.double_booked_slots} / {c.run.server_errors} / {c.run.errors}"

        def latency(c: Column) -> str:
            return " / ".join(fmt_num(c.run.ms(p), 0) for p in (50, 95, 99))

        def fairness(c: Column) -> str:
            a, na, b, nb = c.rates(self.patients)
            f = c.fairness(self.patients)
            return (
                f"{a}/{na} vs {b}/{nb}: {fmt_num(f.ratio, 2)} "
                f"[{fmt_num(f.low, 2)}; {fmt_num(f.high, 2)}]"
            )

        def volume(c: Column) -> str:
            return f"{c.run.count} req in {fmt_num(c.run.duration, 1)} s"

        p99 = percentile(fr.run.latencies, 99)
        return [
            both(
                "Rush ×2: slots allocated (in the database / opened)",
                allocated,
                "all",
                all(c.check.booked_slots == c.slots for c in (fc, fr)),
            ),
            both(
                "Rush ×2: double bookings / 5xx / connection errors",
                faults,
                "0 / 0",
                all(
                    c.check.double_booked_slots == 0
                    and c.check.patients_with_two == 0
                    and c.run.server_errors == 0
                    for c in (fc, fr)
                ),
            ),
            both(
                "Rush ×2: every request p50 / p95 / p99 (ms)",
                latency,
                "fair p99 < 1 s",
                p99 < P99_TARGET_S,
            ),
            both(
                "Rush ×2: aggressive vs polite success, rate ratio [95 % Katz]",
                fairness,
                "fair: contains 1",
                fr.fairness(self.patients).contains_one,
            ),
            both("Rush ×2: requests, duration", volume, "", None),
            Row(
                "Rush ×2: the draw to its results, in a worker process (all ballots: s, CPU s)",
                f"{fmt_num(fr.draw_seconds, 2)} (CPU {fmt_num(fr.draw_cpu, 2)})",
                target="< 1 s",
                verdict=verdict(fr.draw_seconds < DRAW_TARGET_S),
            ),
            Row(
                "Rush ×2: then its follow-up task and the losers' messages (s, CPU s)",
                f"{fmt_num(fr.follow_up_seconds, 2)} (CPU {fmt_num(fr.follow_up_cpu, 2)})",
            ),
            Row("Rush fair: p99 ms (count) by request, before/after the opening", fr.by_kind()),
        ]


class DrawWorker:
    """`bench.draw_worker` started and set up before the opening; `go` draws and waits."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.draw_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stdin is not None
        if self.process.stdout.readline().strip() != "ready":
            self.stop()
            raise RuntimeError("bench.draw_worker did not start (see its output above)")

    def go(self) -> tuple[float, float]:
        """(wall seconds, CPU seconds) of `draws_due()` in the worker process; the worker
        goes on with the tasks the draws asked for (`followed_up`)."""
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        return self._answer()

    def followed_up(self) -> tuple[float, float]:
        """(wall seconds, CPU seconds) of the draws' follow-up and the losers' messages."""
        answer = self._answer()
        self.process.wait(timeout=LIMIT)
        return answer

    def _answer(self) -> tuple[float, float]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("bench.draw_worker stopped (see its output above)")
        answer = json.loads(line)
        return float(answer["seconds"]), float(answer["cpu"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Harness:
    """What both designs share: the target, the cookies, one timed fetch."""

    def __init__(self, port: int, cookies: Callable[[int], dict[str, str]], csrf: str) -> None:
        self.target = Target("127.0.0.1", port, timeout=LIMIT)
        self.cookies = cookies
        self.csrf = csrf

    async def timed(self, column: Column, request: Request, kind: str) -> Response | None:
        sent = time.time()
        try:
            response = await fetch(self.target, request)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
            column.run.errors += 1
            return None
        column.run.record(response.status, response.latency)
        at = sent - column.opens_at
        column.timeline.append((kind, at, at + response.latency, response.status))
        phase = "before" if sent < column.opens_at else "after"
        column.kinds.setdefault(f"{kind} {phase}", []).append(response.latency)
        return response

    def book(self, n: int, slot_id: int) -> Request:
        form = {"csrfmiddlewaretoken": self.csrf, "key": str(uuid.uuid4())}
        return Request("POST", f"/booking/slot/{slot_id}/", self.cookies(n), form)


async def _first_come(h: Harness, patients: int, rush: Any, column: Column) -> None:
    nearest = f"/booking/nearest/?specialty={rush.specialty_id}&place={rush.district_id}"
    start_wall = rush.opens_at.timestamp()
    deadline = time.perf_counter() + (start_wall - time.time()) + FIRST_COME_LIMIT

    async def attempt(n: int, rng: random.Random, tries: int, done: list[bool]) -> None:
        for _ in range(tries):
            if done[0] or time.perf_counter() > deadline:
                return
            found = await h.timed(column, Request("GET", nearest, h.cookies(n)), "nearest")
            if found is None or found.status != 200:
                continue
            ids = [int(i) for i in SLOT_LINK.findall(found.body)]
            if not ids:
                if tries == 1:
                    return  # «нет свободного времени»: a person gives up
                continue  # a script asks again at once
            turn = rng.randrange(len(ids))
            order = ids[turn:] + ids[:turn]
            if tries == 1:
                order = order[:1]  # a person clicks one line, once
            for slot_id in order:
                if done[0] or time.perf_counter() > deadline:
                    return
                answer = await h.timed(column, h.book(n, slot_id), "book")
                if answer is not None and answer.status == 302:
                    done[0] = True
                    column.won[n] = True
                    return

    async def patient(n: int) -> None:
        rng = random.Random(n)
        if is_aggressive(n):
            await asyncio.sleep(max(0.0, start_wall - time.time()))
            done = [False]
            await asyncio.gather(*(attempt(n, rng, SEARCHES, done) for _ in range(PARALLEL)))
        else:
            # A person opens the page within the first seconds, reads, clicks once.
            await asyncio.sleep(max(0.0, start_wall - time.time()) + rng.uniform(0, 2))
            await attempt(n, rng, 1, [False])

    begin = time.perf_counter() + max(0.0, start_wall - time.time())
    await asyncio.gather(*(patient(n) for n in range(patients)))
    column.run.duration = time.perf_counter() - begin


async def _fair(
    h: Harness,
    patients: int,
    rush: Any,
    ballot_of: Callable[[int], int],
    column: Column,
    run_draws: Callable[[], float],
) -> None:
    opens_wall = rush.opens_at.timestamp()
    collect_from = opens_wall - COLLECT_SECONDS
    nearest = f"/booking/nearest/?specialty={rush.specialty_id}&place={rush.district_id}"
    drawn = asyncio.Event()
    request_of: dict[int, int] = {}

    async def ask(n: int) -> None:
        form = {"csrfmiddlewaretoken": h.csrf, "times": "any"}
        path = f"/release/ballot/{ballot_of(n)}/"
        answer = await h.timed(column, Request("POST", path, h.cookies(n), form), "ask")
        if answer is not None and (m := REQUEST_LINK.search(answer.headers.get("location", ""))):
            request_of[n] = int(m.group(1))

    async def result(n: int) -> bool:
        if n not in request_of:
            return False
        path = f"/release/requests/{request_of[n]}/"
        answer = await h.timed(column, Request("GET", path, h.cookies(n)), "result")
        return answer is not None and "Жеребьёвка проведена".encode() in answer.body

    async def hammer_booking(n: int, rng: random.Random) -> None:
        """At the opening moment a script still tries first come: nothing to be had."""
        for _ in range(1):  # one look: the slots are kept, there is nothing to see
            if drawn.is_set():
                return
            found = await h.timed(column, Request("GET", nearest, h.cookies(n)), "nearest")
            ids = [int(i) for i in SLOT_LINK.findall(found.body)] if found else []
            for slot_id in ids[:3]:
                answer = await h.timed(column, h.book(n, slot_id), "book")
                if answer is not None and answer.status == 302:
                    column.won[n] = True  # would be a first-come win despite the draw
            if not ids:
                for slot_id in rush.slot_ids[rng.randrange(len(rush.slot_ids)) :][:3]:
                    await h.timed(column, h.book(n, slot_id), "book")  # a guessed id

    async def aggressive(n: int, rng: random.Random) -> None:
        await asyncio.sleep(max(0.0, collect_from - time.time()) + rng.uniform(0, 2))

        async def connection() -> None:
            for _ in range(REQUEST_REPEATS):
                await ask(n)

        await asyncio.gather(*(connection() for _ in range(PARALLEL)))
        await asyncio.sleep(max(0.0, opens_wall - time.time()))

        async def poll() -> None:
            await hammer_booking(n, rng)
            for _ in range(POLLS):
                if await result(n):
                    return
                await asyncio.sleep(0.5)

        await asyncio.gather(*(poll() for _ in range(PARALLEL)))

    async def polite(n: int, rng: random.Random) -> None:
        at = collect_from + rng.uniform(0, COLLECT_SECONDS * 0.7)
        await asyncio.sleep(max(0.0, at - time.time()))
        form_page = Request("GET", f"/release/ballot/{ballot_of(n)}/", h.cookies(n))
        await h.timed(column, form_page, "form")
        await ask(n)
        await drawn.wait()
        await asyncio.sleep(rng.uniform(0, 10))  # reads the message a while later
        await result(n)

    async def draw_at_opening() -> None:
        await asyncio.sleep(max(0.0, opens_wall - time.time()))
        column.draw_seconds = await asyncio.to_thread(run_draws)
        drawn.set()

    async def patient(n: int) -> None:
        rng = random.Random(1000 + n)
        await (aggressive(n, rng) if is_aggressive(n) else polite(n, rng))

    begin = time.perf_counter() + max(0.0, collect_from - time.time())
    await asyncio.gather(draw_at_opening(), *(patient(n) for n in range(patients)))
    column.run.duration = time.perf_counter() - begin


def run_rush_both(
    port: int,
    patients: list[Any],
    cookies: Callable[[int], dict[str, str]],
    csrf: str,
    slots: int,
    count: int,
    log: Callable[[str], None],
) -> Comparison:
    """Both designs on the same 50 slots, one after the other, the database reset between."""
    from bench import dataset

    h = Harness(port, cookies, csrf)
    dataset.bench_reset()
    rush = dataset.rush_prepare(slots, opens_in=3.0)
    first = Column("first come", Run("rush first come"), slots=len(rush.slot_ids))
    first.opens_at = rush.opens_at.timestamp()
    log(f"rush, first come: {count} patients, {len(rush.slot_ids)} slots at {rush.opens_at:%T}")
    asyncio.run(_first_come(h, count, rush, first))
    first.check = dataset.rush_check(rush)
    log(f"rush, first come: {first.run.count} requests, db {first.check}")

    dataset.bench_reset()
    rush = dataset.rush_prepare(slots, opens_in=COLLECT_SECONDS + 3.0)
    ballots = dataset.release_prepare(rush)
    fair = Column("fair release", Run("rush fair"), slots=len(rush.slot_ids))
    fair.opens_at = rush.opens_at.timestamp()
    # Every slot gets the same number of requests: patient n asks the ballot of slot n % 50.
    order = sorted(rush.slot_ids)

    def ballot_of(n: int) -> int:
        return ballots[order[n % len(order)]]

    worker = DrawWorker()

    def run_draws() -> float:
        seconds, fair.draw_cpu = worker.go()
        return seconds

    log(f"rush, fair: {len(set(ballots.values()))} ballots, draw at {rush.opens_at:%T}")
    try:
        asyncio.run(_fair(h, count, rush, ballot_of, fair, run_draws))
        fair.follow_up_seconds, fair.follow_up_cpu = worker.followed_up()
    finally:
        worker.stop()
    fair.check = dataset.rush_check(rush)
    if timeline := os.environ.get("BENCH_RUSH_TIMELINE"):
        with open(timeline, "w") as out:
            # The openings' wall-clock times: the workers' own log is read against them
            # (bench/request_log.py).
            opens_at = {"first come": first.opens_at, "fair": fair.opens_at}
            timelines = {"first come": first.timeline, "fair": fair.timeline}
            json.dump({**timelines, "opens_at": opens_at}, out)
    for n in dataset.release_winners(patients[:count]):
        fair.won[n] = True
    groups = dataset.release_outcomes(
        patients[:count], lambda n: "aggressive" if is_aggressive(n) else "polite"
    )
    log(f"rush, fair: requests by outcome {groups}")
    log(
        f"rush, fair: {fair.run.count} requests, draw {fair.draw_seconds:.2f} s, "
        f"follow-up {fair.follow_up_seconds:.2f} s, db {fair.check}"
    )
    return Comparison(count, first, fair)


def main() -> int:
    """`python -m bench.rush`: this phase alone, on the bench database and server."""
    import os
    import secrets
    import string
    from pathlib import Path

    from bench import run as bench_run

    env = bench_run._environment()
    bench_run._database_create(env["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings

    from bench import dataset
    from bench.server import Gunicorn, workers_for
    from bench.stats import table_markdown

    data_dir = Path(env["PORTAL_DATA_DIR"])
    dataset.dataset_ensure(bench_run.SCALE, data_dir / "dataset.json", env, bench_run.log)
    patients = dataset.bench_patients(max(bench_run.RUSH_PATIENTS, 1))
    csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))

    def cookies(n: int) -> dict[str, str]:
        return {
            settings.SESSION_COOKIE_NAME: patients[n % len(patients)].session_key,
            settings.CSRF_COOKIE_NAME: csrf,
        }

    server = Gunicorn(bench_run.PORT, workers_for(os.cpu_count() or 1), env, data_dir / "g.log")
    try:
        try:
            server.start()
        except RuntimeError:
            server._wait_ready(limit=300)  # a loaded machine boots the workers slowly
        result = run_rush_both(
            bench_run.PORT,
            patients,
            cookies,
            csrf,
            bench_run.RUSH_SLOTS,
            bench_run.RUSH_PATIENTS,
            bench_run.log,
        )
    finally:
        server.stop()
        dataset.bench_reset()
    print(table_markdown(result.rows()))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
