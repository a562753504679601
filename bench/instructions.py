"""`python -m bench.instructions BASE PAGE…`: a change's cost in instructions, which no
host can blur (docs/performance.md, «Instructions per request»).

This virtual machine's speed moves by half for minutes at a time, and a page's CPU time
with it; a change worth 3 % cannot be seen in seconds or in CPU time. valgrind's
callgrind counts the instructions a process executes instead: the same count, to a
hundredth of a percent, whatever else the machine is doing.

For each page (a part of a label of `bench.run.bench_pages`, or «floor» for the trivial
view with a session) and for each checkout, the baseline at ``BASE`` (e.g. made by
`git worktree add /tmp/base <rev>`) and this one, a child process under callgrind sets up
Django on the bench database, warms the page up, and serves it ``BENCH_INSTR_N`` (100)
times through the WSGI handler in process (`bench.served_client`); only those requests
are counted (callgrind's instrumentation is switched on and off around them with
``callgrind_control``). The two checkouts run side by side, one per core. The count is
the Django process's own: the database backend, Redis and the kernel are not in it.

``BENCH_INSTR_FIRST=1``: each counted request comes from a patient whose pages this
process has not rendered yet (her session read and touched, as `make bench` has them), as
every request of `make bench`'s first page phase, the cabinet, and a user's first page
in a worker: what is kept per user is rendered then (docs/performance.md, «The account
menu's first render»).
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench import run

if TYPE_CHECKING:
    from bench.dataset import WizardPath

N = int(os.environ.get("BENCH_INSTR_N", "100"))
WARM = 50
FIRST = os.environ.get("BENCH_INSTR_FIRST") == "1"
FLOOR = "floor"
POLL = 0.1
LIMIT = 600.0  # seconds for one child under valgrind (about 30 s each)


def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        return _child(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    base = Path(sys.argv[1]).resolve()
    roots = {"base": base, "this": Path(__file__).resolve().parent.parent}
    run._environment()
    import django

    django.setup()
    from bench import dataset

    # As `make bench` measures its pages: every patient holds an appointment.
    dataset.bench_reset()
    dataset.appointments_hold(dataset.bench_patients(_patients_needed(N)))
    first = ", each a patient's first page in the process" if FIRST else ""
    lines = [
        f"Instructions per request, {N} requests each{first} (callgrind, this process only)",
        "",
        "| page | base | this | this ÷ base |",
        "|---|---|---|---|",
    ]
    try:
        for wanted in sys.argv[2:]:
            counts = _side_by_side(roots, wanted)
            lines.append(
                f"| {wanted} | {counts['base'] / N:,.0f} | {counts['this'] / N:,.0f} | "
                f"{counts['this'] / counts['base']:.4f} |"
            )
            run.log(lines[-1])
    finally:
        dataset.bench_reset()
    print("\n".join(lines))
    return 0


def _side_by_side(roots: dict[str, Path], wanted: str) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as scratch:
        children = {
            side: _Child(root, wanted, Path(scratch) / side) for side, root in roots.items()
        }
        return {side: child.counted() for side, child in children.items()}


class _Child:
    """One checkout's process under callgrind, instrumented only while it serves N requests."""

    def __init__(self, root: Path, wanted: str, scratch: Path) -> None:
        scratch.mkdir()
        self.scratch = scratch
        self.log = scratch / "log"
        env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(root)}
        # The nearest-time ranking kept through the run, as under a rush.
        env.setdefault("NEAREST_CACHE_SECONDS", "600")
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={scratch / 'callgrind.out'}",
            sys.executable,
            # This file, whichever checkout is measured: the baseline may predate it.
            str(Path(__file__).resolve()),
            "--child",
            wanted,
            str(N),
            str(scratch),
        ]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def counted(self) -> int:
        self._wait_for("ready")
        self._control("--instr=on")
        (self.scratch / "go").touch()
        self._wait_for("done")
        self._control("--instr=off")
        (self.scratch / "exit").touch()
        self.process.wait(timeout=LIMIT)
        for line in self.log.read_text().splitlines():
            if "Collected :" in line:
                return int(line.rsplit(":", 1)[1])
        raise RuntimeError(f"callgrind gave no count: see {self.log}")

    def _control(self, what: str) -> None:
        subprocess.run(
            ["callgrind_control", what, str(self.process.pid)], check=True, capture_output=True
        )

    def _wait_for(self, name: str) -> None:
        deadline = time.monotonic() + LIMIT
        while not (self.scratch / name).exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the child stopped before «{name}»:\n{self.log.read_text()}")
            time.sleep(POLL)


def _child(wanted: str, n: int, scratch: Path) -> int:
    """Serve ``wanted`` n times, counted only between «go» and «done»."""
    run._environment()
    import django

    django.setup()
    from django.conf import settings

    from bench import dataset
    from bench.served_client import ServedClient

    patients = dataset.bench_patients(_patients_needed(n))
    headers = {"X-Forwarded-Proto": "https", "User-Agent": "portal-bench"}
    csrf = run.csrf_secret()
    clients = []
    for patient in patients:
        client = ServedClient(headers=headers)
        client.cookies[settings.SESSION_COOKIE_NAME] = patient.session_key
        client.cookies[settings.CSRF_COOKIE_NAME] = csrf
        clients.append(client)
    url = _url(wanted, dataset.wizard_path())
    for client in clients[:WARM]:  # warm: imports, templates, prepared statements, caches
        response = client.get(url, secure=True)
        assert response.status_code == 200, (url, response.status_code)
    for client in clients[WARM:]:  # first pages to come: their sessions read and touched
        client.get(_url(FLOOR, dataset.wizard_path()), secure=True)
    (scratch / "ready").touch()
    _wait(scratch / "go")
    for i in range(n):
        (clients[WARM + i] if FIRST else clients[i % WARM]).get(url, secure=True)
    (scratch / "done").touch()
    _wait(scratch / "exit")
    return 0


def _patients_needed(n: int) -> int:
    """The warming patients, and with BENCH_INSTR_FIRST one more per counted request."""
    return WARM + (n if FIRST else 0)


def _url(wanted: str, path: "WizardPath") -> str:
    if wanted == FLOOR:
        return "/__bench__/floor"
    pages = run.bench_pages(path)
    matches = [url for label, url in pages.items() if wanted.lower() in label.lower()]
    if len(matches) != 1:
        raise SystemExit(f"«{wanted}» names {len(matches)} of the pages: {list(pages)}")
    return matches[0]


def _wait(flag: Path) -> None:
    while not flag.exists():
        time.sleep(POLL)


if __name__ == "__main__":
    sys.exit(main())
