"""`python -m bench.rush_profile`: what each request of the fair rush costs, in-process.

The fair rush of `bench/rush.py` is two bursts of a few kinds of request: the ballot
POSTs (a patient's first and her repeats) while the ballot collects, then at the opening
«Ближайшее свободное время», booking POSTs of slots kept for the draw and the result
page polled before and after the draw. This runs each kind through Django's test client
(bench.settings, the real middleware and sessions, the per-request connection reset of a
served request: `bench.served_client`) on the benchmark database
(`BENCH_DATABASE_URL`), set up as `bench/rush.py` sets it up (`dataset.rush_prepare`,
`release_prepare`, bench patients with e-mail and phone), and prints per kind the
statements of one request and the client CPU milliseconds per request
(`time.process_time`, which other processes on the machine disturb far less than wall
time) and the PostgreSQL backend's CPU milliseconds (`bench.profile._backend_ns`), next to
the trivial view with a session: the floor every request pays.
`BENCH_RUSH_PROFILE_CPROFILE="<kind>"` (the label before any parenthesis) prints a CPU-time
cProfile of that kind in place of its first round (`BENCH_RUSH_PROFILE_SORT=tottime` for
own time), and `BENCH_RUSH_PROFILE_DUMP=<file>` also writes it for `pstats` (callers and
callees); `BENCH_RUSH_PROFILE_SQL=1` prints its SQL.
docs/performance.md («The fair rush, request by request») quotes it.
"""

import datetime
import logging
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench import run
from bench.profile import _backend_ns

N = int(os.environ.get("BENCH_RUSH_PROFILE_N", "120"))
ROUNDS = int(os.environ.get("BENCH_RUSH_PROFILE_ROUNDS", "3"))


def main() -> int:
    run._environment()
    import django

    # Each refused booking would log a «Conflict» warning: not what is measured.
    logging.getLogger("django.request").setLevel(logging.ERROR)

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from bench import dataset
    from bench.served_client import ServedClient
    from portal.release.draws import draws_due
    from portal.release.models import Ballot
    from portal.scheduling.models import Slot

    dataset.bench_reset()
    patients = dataset.bench_patients(N)
    rush = dataset.rush_prepare(run.RUSH_SLOTS, opens_in=3600)
    slot_ballot = dataset.release_prepare(rush)
    order = sorted(rush.slot_ids)
    headers = {"X-Forwarded-Proto": "https", "User-Agent": "portal-bench"}
    csrf = "b" * 32
    reverse("release:home")  # the URLconf, as a warm worker has it

    def client(n: int) -> ServedClient:
        c = ServedClient(enforce_csrf_checks=True, headers=headers)
        c.cookies[settings.SESSION_COOKIE_NAME] = patients[n].session_key
        c.cookies[settings.CSRF_COOKIE_NAME] = csrf
        return c

    clients = [client(n) for n in range(N)]
    ballot_path = [f"/release/ballot/{slot_ballot[order[n % len(order)]]}/" for n in range(N)]
    result_path: dict[int, str] = {}
    nearest = f"/booking/nearest/?specialty={rush.specialty_id}&place={rush.district_id}"

    def expect(response: Any, *codes: int) -> Any:
        assert response.status_code in codes, (response.status_code, response.content[:300])
        return response

    def floor(n: int) -> None:
        expect(clients[n].get("/__bench__/floor", secure=True), 200)

    def form(n: int) -> None:
        expect(clients[n].get(ballot_path[n], secure=True), 200)

    def ask(n: int) -> None:
        response = clients[n].post(
            ballot_path[n],
            {"csrfmiddlewaretoken": csrf, "times": "any"},
            HTTP_ORIGIN="https://testserver",
            secure=True,
        )
        result_path[n] = expect(response, 302)["Location"]

    def result(n: int) -> None:
        expect(clients[n].get(result_path[n], secure=True), 200)

    def nearest_page(n: int) -> None:
        expect(clients[n].get(nearest, secure=True), 200)

    def book_kept(n: int) -> None:
        response = clients[n].post(
            f"/booking/slot/{order[n % len(order)]}/",
            {"csrfmiddlewaretoken": csrf, "key": str(uuid.uuid4())},
            HTTP_ORIGIN="https://testserver",
            secure=True,
        )
        expect(response, 409)

    lines = [
        f"In-process, {N} patients × {ROUNDS} rounds per kind (Django test client, "
        "bench.settings; client CPU by `time.process_time`, the database backend's by",
        "schedstat; medians of rounds):",
        "",
        "| Request | statements | client CPU ms | database CPU ms | total | × session floor |",
        "|---|---|---|---|---|---|",
    ]
    floor_ms = 0.0

    def measure(label: str, call: Callable[[int], None], rounds: int = ROUNDS) -> None:
        nonlocal floor_ms
        with CaptureQueriesContext(connection):
            call(0)
            statements = len(connection.queries)
            if os.environ.get("BENCH_RUSH_PROFILE_SQL"):
                print(f"--- {label}")
                print("\n".join(q["sql"][:400] for q in connection.queries))
        per_round: list[tuple[float, float]] = []
        if os.environ.get("BENCH_RUSH_PROFILE_CPROFILE") == label.split(" (")[0]:
            # A profile of this kind instead of its first round (a first POST has only one).
            import cProfile
            import pstats

            with cProfile.Profile(time.process_time) as profile:
                for n in range(1, N):
                    call(n)
            order = os.environ.get("BENCH_RUSH_PROFILE_SORT", "cumulative")
            pstats.Stats(profile).sort_stats(order).print_stats(45)
            if dump := os.environ.get("BENCH_RUSH_PROFILE_DUMP"):
                profile.dump_stats(dump)  # for pstats' callers and callees
            rounds -= 1
        for _ in range(rounds):
            began, backend = time.process_time(), _backend_ns(connection)
            for n in range(1, N):
                call(n)
            client = (time.process_time() - began) * 1000 / (N - 1)
            per_round.append((client, (_backend_ns(connection) - backend) / 1e6 / (N - 1)))
        if not per_round:
            lines.append(f"| {label} | {statements} | (profiled) | | | |")
            return
        client = statistics.median(c for c, _ in per_round)
        database = statistics.median(d for _, d in per_round)
        total = statistics.median(c + d for c, d in per_round)
        floor_ms = floor_ms or total
        lines.append(
            f"| {label} | {statements} | {client:.2f} | {database:.2f} | {total:.2f}"
            f" | {total / floor_ms:.1f} |"
        )

    for n in range(N):  # every session touched this minute, as in a steady state
        floor(n)
    measure("trivial view with a session (the floor)", floor)
    form(0)  # the directory's cache filled (the ballot's clinic, specialty, doctors)
    measure("ballot form GET", form)
    measure("ballot POST, the first", ask, rounds=1)
    measure("ballot POST, a repeat", ask)
    measure("result page before the draw", result)
    past = timezone.now() - datetime.timedelta(seconds=1)
    Slot.objects.filter(pk__in=rush.slot_ids).update(opens_at=past)
    Ballot.objects.filter(pk__in=set(slot_ballot.values())).update(opens_at=past)
    measure("nearest at the opening (every time kept)", nearest_page)
    measure("booking POST of a kept slot (refused)", book_kept)
    draws_due()
    measure("result page after the draw", result)
    dataset.bench_reset()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
