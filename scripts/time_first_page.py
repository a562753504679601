#!/usr/bin/env python3
"""How long `make run` takes to a first page, and where the time goes.

    python3 scripts/time_first_page.py [--runs N] [--again] [--keep]

Each run starts `make run` in its own process group with a fresh PORTAL_DATA_DIR under
data/first-page/ (SQLite; DATABASE_URL is dropped unless --database-url is given) and
non-default ports, polls http://127.0.0.1:$PORTAL_PORT/ until it answers 200, then sends
the group SIGINT, as Ctrl-C in a terminal would, and checks that every process is gone
and every port free. `--again` runs `make run` a second time on the same data (the
restart of a stand); `--keep` leaves the data directories for inspection.

Phases are the gaps between the output lines that mark them (the commands make echoes
and the lines the run prints); every line is also listed with its offset, so a phase
that no marker names is still visible. Standard library only: it runs before the venv.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Output line → the phase it starts. The first match wins; unmatched lines start no phase.
MARKERS: list[tuple[str, str]] = [
    (r"pip install .*uv|-m venv .*\.tools", "bootstrap .tools (uv)"),
    (r"uv\S* sync", "uv sync"),
    (r"scripts/run\.sh", "run script start"),
    (r"manage\.py migrate", "migrate"),
    (r"manage\.py load_demo", "demo load"),
    (r"collectstatic", "collectstatic"),
    (r"^Эмулятор ЕСИА", "emulator + personas"),
    (r"^Письма и SMS", "notification services"),
    (r"^Портал пациента:", "portal server start"),
]


@dataclass
class Run:
    lines: list[tuple[float, str]] = field(default_factory=list)
    first_page: float | None = None
    stopped_in: float | None = None
    leftovers: list[str] = field(default_factory=list)


def free_port(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def group_alive(pgid: int) -> list[str]:
    """Processes still in the group (from /proc), as 'pid command'."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...
        after = text.rsplit(")", 1)[1].split()
        if int(after[2]) == pgid and after[0] != "Z":
            pid = stat.parent.name
            try:
                cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                cmd = "?"
            alive.append(f"{pid} {cmd[:120]}")
    return alive


def _terminal_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def one_run(env: dict[str, str], port: int, ports: list[int], timeout: float) -> Run:
    run = Run()
    started = time.monotonic()
    proc = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # As in a terminal: a job started in the background of a script inherits SIGINT
        # and SIGQUIT ignored, and then Ctrl-C could not be simulated.
        preexec_fn=_terminal_signals,
    )
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    url = f"http://127.0.0.1:{port}/"
    buffer = b""
    next_poll = 0.0

    def drain(wait: float) -> None:
        nonlocal buffer
        for _key, _ in sel.select(wait):
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                continue
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            now = time.monotonic() - started
            for raw in complete:
                run.lines.append((now, raw.decode(errors="replace").rstrip()))

    try:
        while time.monotonic() - started < timeout:
            drain(0.05)
            if proc.poll() is not None:
                drain(0)
                break
            if time.monotonic() >= next_poll:
                if answers_200(url):
                    run.first_page = time.monotonic() - started
                    break
                next_poll = time.monotonic() + 0.1
        # A few seconds more of output: what the run prints after the first page.
        settle = time.monotonic() + 3
        while time.monotonic() < settle and proc.poll() is None:
            drain(0.1)
    finally:
        stop_at = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and group_alive(proc.pid):
            drain(0.1)
        run.stopped_in = time.monotonic() - stop_at
        run.leftovers = group_alive(proc.pid)
        if run.leftovers:
            os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(1)
        proc.wait()
        busy = [p for p in ports if not free_port(p)]
        if busy:
            run.leftovers.append(f"ports still taken: {busy}")
    return run


def phases(run: Run) -> list[tuple[str, float]]:
    """(phase, seconds): from each marker line to the next, the last one to the first page."""
    marks: list[tuple[float, str]] = [(0.0, "make start-up")]
    stage_line = re.compile(r"^\[\s*[\d.]+ с\] (.+)")  # serve_demo's own phase lines
    own_stages = any(stage_line.match(line) for _, line in run.lines)
    markers = MARKERS[:3] if own_stages else MARKERS  # then only make's steps before it
    for at, line in run.lines:
        stage = stage_line.match(line)
        if stage:
            marks.append((at, stage.group(1)))
            continue
        for pattern, name in markers:
            if re.search(pattern, line):
                if marks[-1][1] != name:
                    marks.append((at, name))
                break
    end = run.first_page if run.first_page is not None else (run.lines or [(0.0, "")])[-1][0]
    result = []
    for (at, name), (nxt, _) in zip(marks, [*marks[1:], (end, "")], strict=True):
        if at <= end:
            result.append((name, max(0.0, min(nxt, end) - at)))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="fresh data directories, one each")
    parser.add_argument("--again", action="store_true", help="a second make run on the same data")
    parser.add_argument("--keep", action="store_true", help="keep the data directories")
    parser.add_argument("--port", type=int, default=18900, help="PORTAL_PORT; +1, +25, +75, +76")
    parser.add_argument("--database-url", default="", help="default: SQLite in the data dir")
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--verbose", action="store_true", help="every output line with its time")
    args = parser.parse_args()

    base = args.port
    ports = {
        "PORTAL_PORT": base,
        "EMULATOR_PORT": base + 1,
        "EMAIL_PORT": base + 25,
        "SMPP_PORT": base + 75,
        "SMSC_EMULATOR_CONTROL_PORT": base + 76,
    }
    taken = [p for p in ports.values() if not free_port(p)]
    if taken:
        print(f"ports already taken: {taken}; pick another --port", file=sys.stderr)
        return 2
    load = os.getloadavg()
    print(f"nproc {os.cpu_count()}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    failed = False
    for n in range(args.runs):
        data = ROOT / "data" / "first-page" / f"run-{os.getpid()}-{n}"
        shutil.rmtree(data, ignore_errors=True)
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update({k: str(v) for k, v in ports.items()})
        env["PORTAL_DATA_DIR"] = str(data)
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        rounds = ["fresh data", "same data again"] if args.again else ["fresh data"]
        for label in rounds:
            before = os.getloadavg()[0]
            run = one_run(env, base, list(ports.values()), args.timeout)
            title = f"run {n + 1}, {label} (load {before:.2f})"
            if run.first_page is None:
                failed = True
                print(f"{title}: NO first page")
                for at, line in run.lines[-30:]:
                    print(f"  {at:6.2f}  {line}")
            else:
                print(f"{title}: first page after {run.first_page:.1f} s")
                for name, seconds in phases(run):
                    print(f"  {seconds:6.2f} s  {name}")
            if args.verbose:
                for at, line in run.lines:
                    print(f"    {at:6.2f}  {line[:110]}")
            print(f"  stopped {run.stopped_in:.1f} s after Ctrl-C" if run.stopped_in else "")
            if run.leftovers:
                failed = True
                print("  LEFT RUNNING: " + "; ".join(run.leftovers))
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
