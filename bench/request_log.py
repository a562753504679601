"""Each request's time in the server, as its worker saw it: `BENCH_REQUEST_LOG=<dir>`.

The load generator's timeline (`BENCH_RUSH_TIMELINE`) says when a request was sent and
answered; it cannot tell a request that queued from one that was slow to serve. With
`BENCH_REQUEST_LOG` set, the bench's gunicorn runs with these settings — the portal's
own (`portal.gunicorn_conf`: forked warm) plus two hooks — and every worker appends one
line per request to ``<dir>/<pid>.log``: when its worker began and finished it (wall
clock, as the timeline's ``opens_at``), the worker's CPU seconds for it, and the path.
The hooks cost a few microseconds a request; the figures of a run with them are for
reading the burst, not for the table.

`python -m bench.request_log <dir> <timeline.json>` reads them against the fair
rush's opening: the first request after the opening in each worker (a kind's first
request in a process pays for what it is the first to need), and per kind of request
the time in the worker and its CPU, beside the load generator's latency of the same
requests (docs/performance.md, «The opening, as the workers saw it»).
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import IO, Any

from bench.stats import percentile
from portal.gunicorn_conf import pre_fork, preload_app, when_ready, worker_class

__all__ = ["post_request", "pre_fork", "pre_request", "preload_app", "when_ready", "worker_class"]

_log: IO[str] | None = None


def pre_request(worker: Any, req: Any) -> None:
    req.bench_began = (time.time(), time.process_time())


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    global _log
    began, cpu = req.bench_began
    if _log is None:
        folder = Path(os.environ["BENCH_REQUEST_LOG"])
        folder.mkdir(parents=True, exist_ok=True)
        _log = (folder / f"{os.getpid()}.log").open("a", buffering=1)
    _log.write(f"{began:.6f} {time.time():.6f} {time.process_time() - cpu:.6f} {req.path}\n")


def kind_of(path: str) -> str:
    """The fair rush's kinds of request (bench/rush.py), by path."""
    for part, kind in (
        ("/booking/nearest/", "nearest"),
        ("/booking/slot/", "book"),
        ("/release/requests/", "result"),
        ("/release/ballot/", "ballot"),
    ):
        if path.startswith(part):
            return kind
    return path


def read(folder: Path, opens_at: float) -> dict[str, list[tuple[float, float, float, str]]]:
    """Per worker: (began, finished, CPU seconds, kind), times in seconds from the opening."""
    workers = {}
    for log in sorted(folder.glob("*.log")):
        rows = []
        for line in log.read_text().splitlines():
            began, finished, cpu, path = line.split(" ", 3)
            at = float(began) - opens_at
            rows.append((at, float(finished) - opens_at, float(cpu), kind_of(path)))
        workers[log.stem] = rows
    return workers


def summary(folder: Path, timeline: dict[str, Any], window: float = 5.0) -> list[str]:
    opens_at = timeline["opens_at"]["fair"]
    workers = read(folder, opens_at)
    lines = [f"The fair rush's first {window:.0f} s after the opening; {len(workers)} workers."]
    lines.append("First request after the opening in each worker (s from the opening, ms):")
    for pid, rows in workers.items():
        after = [r for r in rows if r[0] >= 0]
        if after:
            at, done, cpu, kind = after[0]
            lines.append(
                f"  {pid}: {kind} began {at:.3f}, in the worker {1000 * (done - at):.1f}, "
                f"CPU {1000 * cpu:.1f}"
            )
    served: dict[str, list[tuple[float, float]]] = {}
    for rows in workers.values():
        for at, done, cpu, kind in rows:
            if 0 <= at < window:
                served.setdefault(kind, []).append((done - at, cpu))
    sent: dict[str, list[float]] = {}
    for kind, at, done, _status in timeline["fair"]:
        if 0 <= at < window:
            sent.setdefault(kind, []).append(done - at)
    lines.append(
        "| request | count | in the worker p50 / p99 ms | its CPU mean ms "
        "| load generator p50 / p99 ms |"
    )
    lines.append("|---|---|---|---|---|")
    for kind, times in sorted(served.items()):
        walls = [w for w, _ in times]
        theirs = sent.get(kind, [])
        lines.append(
            f"| {kind} | {len(times)} "
            f"| {1000 * percentile(walls, 50):.1f} / {1000 * percentile(walls, 99):.1f} "
            f"| {1000 * statistics.fmean(c for _, c in times):.2f} "
            f"| {1000 * percentile(theirs, 50):.0f} / {1000 * percentile(theirs, 99):.0f} |"
        )
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench.request_log <dir> <timeline.json>", file=sys.stderr)
        return 2
    timeline = json.loads(Path(argv[1]).read_text())
    print("\n".join(summary(Path(argv[0]), timeline)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
