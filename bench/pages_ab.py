"""`python -m bench.pages_ab BASE PAGE…`: a change's effect on pages, two gunicorns
side by side (docs/performance.md, «Two gunicorns, turn by turn»).

A page's ratio in `make bench` moves by a tenth from one run to the next on a shared
virtual machine, more than most single changes are worth. This serves the baseline
(the checkout at ``BASE``, e.g. made by `git worktree add /tmp/base <rev>`) and this
checkout at once, on two ports of one machine, and loads them in turns: per round, for
each variant (their order swapped every round) and each page, the framework floor and
then the page, each from other bench patients. Besides each side's req/s and ratio to
its floor, it prints the machine's CPU per page request by process kind, read from
/proc around each turn: gunicorn's workers, PostgreSQL, Redis, this load generator. That
is what a request costs the machine, drift or not.

``PAGE`` is a part of a label of `bench.run.bench_pages` («cabinet», «Мои записи»,
«подтверждение», «Ближайшее»…). Runs on the bench database as `make bench` leaves it;
needs nothing else running (check `uptime`). BENCH_AB_ROUNDS (6) and BENCH_AB_REQUESTS
(400 per page turn; the floor's turn is three times that) set its length.
"""

import asyncio
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bench import run
from bench.stats import Run

if TYPE_CHECKING:
    from bench.loadgen import Request

ROUNDS = int(os.environ.get("BENCH_AB_ROUNDS", "6"))
REQUESTS = int(os.environ.get("BENCH_AB_REQUESTS", "400"))
PORTS = {"base": 18401, "this": 18402}
CONCURRENCY = 16
TICK = os.sysconf("SC_CLK_TCK")


def cpu_by_kind(own_pid: int) -> dict[str, float]:
    """CPU seconds so far of every process on the machine, added up by kind."""
    totals: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue  # ended meanwhile
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / TICK
        kind = _kind(int(stat.parent.name), name, own_pid)
        totals[kind] = totals.get(kind, 0.0) + seconds
    return totals


def _kind(pid: int, name: str, own_pid: int) -> str:
    if pid == own_pid:
        return "load generator"
    if name.startswith("postgres"):
        return "postgres"
    if name.startswith("redis"):
        return "redis"
    if "gunicorn" in name or name.startswith("python"):
        return "gunicorn"
    return "other"


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    base, wanted = Path(sys.argv[1]).resolve(), [w.lower() for w in sys.argv[2:]]
    env = run._environment()
    import django

    django.setup()
    from bench import dataset
    from bench.loadgen import Request, Target, closed_loop
    from bench.server import ROOT, Gunicorn

    dataset.bench_reset()
    patients = dataset.bench_patients(1000)
    dataset.appointments_hold(patients)
    pages = {
        label: url
        for label, url in run.bench_pages(dataset.wizard_path()).items()
        if any(w in label.lower() for w in wanted)
    }
    if not pages:
        print(f"no page matches {wanted}", file=sys.stderr)
        return 2
    csrf = run.csrf_secret()
    data = Path(env["PORTAL_DATA_DIR"])
    roots = {"base": base, "this": ROOT}
    servers = {
        side: Gunicorn(PORTS[side], 5, env, data / f"ab-{side}.log", root=roots[side])
        for side in roots
    }

    def loaded(side: str, make: Callable[[int], Request], count: int) -> Run:
        measured = Run(side)
        target = Target("127.0.0.1", PORTS[side])
        asyncio.run(
            closed_loop(target, measured, make, concurrency=CONCURRENCY, count=count, time_limit=60)
        )
        return measured

    def patient(n: int) -> dict[str, str]:
        return run.patient_cookies(patients[n % len(patients)], csrf)

    floors: dict[tuple[str, str], list[Run]] = {}
    turns: dict[tuple[str, str], list[Run]] = {}
    cpu: dict[tuple[str, str], list[dict[str, float]]] = {}
    try:
        for server in servers.values():
            server.start()
        for side in servers:  # warm: imports, templates, connections, sessions in Redis
            loaded(side, lambda n: Request("GET", "/booking/", patient(n)), 100)
            loaded(side, lambda n: Request("GET", "/__bench__/floor", patient(n)), len(patients))
        first = 0
        for round_ in range(ROUNDS):
            for side in ("base", "this") if round_ % 2 == 0 else ("this", "base"):
                for label, url in pages.items():
                    key = (side, label)
                    floor = loaded(side, lambda n: Request("GET", "/__bench__/floor"), 3 * REQUESTS)
                    before = cpu_by_kind(os.getpid())
                    page = loaded(side, _page_request(Request, url, patient, first), REQUESTS)
                    after = cpu_by_kind(os.getpid())
                    first += REQUESTS
                    floors.setdefault(key, []).append(floor)
                    turns.setdefault(key, []).append(page)
                    spent = {k: (after[k] - before.get(k, 0.0)) * 1000 / page.count for k in after}
                    cpu.setdefault(key, []).append(spent)
                    run.log(
                        f"round {round_} {side} {label}: floor {floor.per_second:.0f}/s, "
                        f"page {page.per_second:.0f}/s"
                    )
    finally:
        for server in servers.values():
            server.stop()
        dataset.bench_reset()
    print(_table(pages, floors, turns, cpu))
    return 0


def _page_request(
    request: type["Request"], url: str, patient: Callable[[int], dict[str, str]], first: int
) -> Callable[[int], "Request"]:
    """The page's n-th request of this turn, from the turn's n-th patient."""
    return lambda n: request("GET", url, patient(first + n))


def _table(
    pages: dict[str, str],
    floors: dict[tuple[str, str], list[Run]],
    turns: dict[tuple[str, str], list[Run]],
    cpu: dict[tuple[str, str], list[dict[str, float]]],
) -> str:
    kinds = ["gunicorn", "postgres", "redis", "load generator", "other"]
    lines = [
        f"{ROUNDS} rounds × {REQUESTS} requests a page turn; CPU: median ms per page request",
        "",
        "| page | side | floor req/s | page req/s | ratio | statuses | "
        + " | ".join(kinds)
        + " | machine |",
        "|---|---|---|---|---|---|" + "---|" * (len(kinds) + 1),
    ]
    for label in pages:
        for side in ("base", "this"):
            key = (side, label)
            floor = Run.joined("floor", floors[key])
            page = Run.joined(label, turns[key])
            medians = [statistics.median(c.get(k, 0.0) for c in cpu[key]) for k in kinds]
            lines.append(
                f"| {label} | {side} | {floor.per_second:.0f} | {page.per_second:.0f} | "
                f"{page.per_second / floor.per_second:.3f} | {dict(page.statuses)} | "
                + " | ".join(f"{m:.2f}" for m in medians)
                + f" | {sum(medians):.2f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
