"""What else used the machine while a phase ran (issue 25: figures from a busy machine
are not results).

Per phase we record the load average at its start, a **speed probe** (`speed_probe`: how
fast the machine runs a fixed loop before and after the phase, which shows a host giving
the whole machine less time, invisible to any process inside it), and the **foreign
load**: CPU time
spent by processes that are not the benchmark's, in cores. The benchmark's own
processes are this process and its descendants (gunicorn and its workers, pgbench, the
peer's server), PostgreSQL's processes that serve the bench's databases or the
cluster as a whole (checkpointer, WAL writer…), and the Redis server the portal's
sessions and cache live in when the bench runs with Redis (`LoadLog.redis`): a
PostgreSQL backend serving another database — another project's test suite, say — is
foreign, and so is a Redis client's own work, but the one Redis process cannot tell whose
commands it serves. Before Redis counted as the bench's, runs warned about the floor
with a session, whose 1,700–1,900 session reads a second cost Redis 0.07–0.08
cores (docs/performance.md, «Redis is the bench's own»).

Foreign = the CPU time the phase's other processes spent (from /proc/<pid>/stat: their
own and their reaped children's, so a test runner's finished workers count), over the
phase's wall time. Counted positively rather than as the machine's total minus ours:
our own processes that end within a phase (pgbench, the floor's connections, recycled
workers) would otherwise be taken for someone else's. Kernel threads are left out (the
loopback traffic they carry is ours); a foreign PostgreSQL backend that ends within the
phase is missed (its time goes to the postmaster, which is ours).
"""

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")
# Above this many cores of foreign work in a phase, the run is flagged.
FOREIGN_LIMIT = 0.05
# A phase whose speed probe ran this much slower than the run's fastest is flagged: the
# host gave the machine less CPU time, which no process inside it shows (docs/
# performance.md, «The machine halved its speed for a while»).
SLOWER_LIMIT = 1.25
PROBE_LOOPS = 100_000  # about 6 ms of pure Python on this kind of machine


def speed_probe() -> float:
    """Seconds of the fastest of five runs of a fixed pure-Python loop, spread over a
    tenth of a second: the CPU this machine gives one process now, whatever runs inside
    it. The host also stalls the machine for moments (one run of 6 ms took 14 on an idle
    machine); the fastest of runs apart is not caught by one."""
    best = math.inf
    for _ in range(5):
        began = time.perf_counter()
        total = 0
        for i in range(PROBE_LOOPS):
            total += i
        best = min(best, time.perf_counter() - began)
        time.sleep(0.02)
    return best


@dataclass(frozen=True)
class ProcessTimes:
    parent: int
    cpu_seconds: float
    cmdline: str


@dataclass(frozen=True)
class PhaseLoad:
    name: str
    seconds: float
    load_at_start: float
    foreign_cores: float
    # The faster of the speed probes at its start and its end (seconds; NaN: not probed):
    # a host that slows the machine for the whole phase slows both.
    probe_seconds: float = math.nan

    @property
    def busy(self) -> bool:
        return self.foreign_cores > FOREIGN_LIMIT


@dataclass
class LoadLog:
    """The phases of one run, in order."""

    own_databases: tuple[str, ...]
    # "host:port" of the Redis server the portal uses (`redis_address`), or None.
    redis: str | None = None
    phases: list[PhaseLoad] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        load = os.getloadavg()[0]
        probe = speed_probe()
        began, before = time.monotonic(), processes()
        try:
            yield
        finally:
            seconds = max(time.monotonic() - began, 1e-6)
            foreign = foreign_seconds(
                before, processes(), os.getpid(), self.own_databases, self.redis
            )
            probe = min(probe, speed_probe())
            self.phases.append(PhaseLoad(name, seconds, load, foreign / seconds, probe))

    def slowdown(self, phase: PhaseLoad) -> float:
        """How much slower the phase's probe ran than the run's fastest (1.0: as fast)."""
        fastest = min((p.probe_seconds for p in self.phases), default=math.nan)
        return phase.probe_seconds / fastest if fastest > 0 else math.nan

    def warnings(self) -> list[str]:
        busy = [
            f"WARNING: {p.name}: other processes used {p.foreign_cores:.2f} cores "
            f"(load {p.load_at_start:.2f} at its start); its figures are not results"
            for p in self.phases
            if p.busy
        ]
        slowed = [
            f"WARNING: {p.name}: the machine ran {self.slowdown(p):.2f}× slower than in "
            f"this run's fastest phase (the host gave it less CPU time); its figures are "
            f"not results"
            for p in self.phases
            if self.slowdown(p) > SLOWER_LIMIT
        ]
        return busy + slowed

    def summary(self) -> str:
        """One line for the report: the worst phase and how many were busy."""
        if not self.phases:
            return "no phase measured"
        worst = max(self.phases, key=lambda p: p.foreign_cores)
        busy = sum(p.busy for p in self.phases)
        slowest = max(self.phases, key=self.slowdown)
        slowed = sum(self.slowdown(p) > SLOWER_LIMIT for p in self.phases)
        return (
            f"foreign load ≤ {worst.foreign_cores:.2f} cores in every phase "
            f"(worst: {worst.name}); load average at the phases' starts "
            f"{min(p.load_at_start for p in self.phases):.2f}–"
            f"{max(p.load_at_start for p in self.phases):.2f}; "
            + (f"{busy} phase(s) over {FOREIGN_LIMIT} cores" if busy else "a quiet run")
            + f"; CPU speed probe: the slowest phase ({slowest.name}) "
            f"{self.slowdown(slowest):.2f}× the fastest"
            + (f", {slowed} phase(s) over {SLOWER_LIMIT}×" if slowed else "")
        )


def foreign_seconds(
    before: dict[int, "ProcessTimes"],
    after: dict[int, "ProcessTimes"],
    root: int,
    databases: tuple[str, ...],
    redis: str | None = None,
) -> float:
    """CPU seconds spent between the two snapshots by processes that are not ours."""
    own = own_pids(after, root, databases, redis) | own_pids(before, root, databases, redis)
    total = 0.0
    for pid, now in after.items():
        if pid in own or _kernel_thread(pid, now):
            continue
        then = before.get(pid)
        spent = now.cpu_seconds - then.cpu_seconds if then is not None else now.cpu_seconds
        total += spent if spent >= 0 else now.cpu_seconds  # a pid reused meanwhile
    return total


def _kernel_thread(pid: int, info: "ProcessTimes") -> bool:
    return pid == 2 or info.parent == 2 or not info.cmdline


def parse_stat(text: str) -> tuple[int, float]:
    """(parent pid, CPU seconds) from a /proc/<pid>/stat line: its own user and system
    time and that of the children it has reaped (a test runner's finished workers)."""
    # The command name is in parentheses and may itself contain spaces or ')'.
    rest = text[text.rindex(")") + 2 :].split()
    return int(rest[1]), sum(int(v) for v in rest[11:15]) / TICKS


def processes(proc: Path = PROC) -> dict[int, ProcessTimes]:
    table: dict[int, ProcessTimes] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent, seconds = parse_stat((entry / "stat").read_text())
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue  # gone between listing and reading
        table[int(entry.name)] = ProcessTimes(parent, seconds, cmdline)
    return table


def own_pids(
    table: dict[int, ProcessTimes],
    root: int,
    databases: tuple[str, ...],
    redis: str | None = None,
) -> set[int]:
    """The benchmark's processes: ``root``'s tree, PostgreSQL's own and its backends of
    ``databases``, and the Redis server listening on ``redis`` ("host:port")."""
    children: dict[int, list[int]] = {}
    for pid, info in table.items():
        children.setdefault(info.parent, []).append(pid)
    own, stack = set(), [root]
    while stack:
        pid = stack.pop()
        if pid in own:
            continue
        own.add(pid)
        stack.extend(children.get(pid, []))
    for pid, info in table.items():
        if _postgres_is_ours(info.cmdline, databases) or _redis_is_ours(info.cmdline, redis):
            own.add(pid)
    return own


def redis_address(url: str) -> str | None:
    """ "host:port" of a ``redis://`` URL (6379 when it names none); None without one."""
    if not url:
        return None
    parsed = urlsplit(url)
    return f"{parsed.hostname or 'localhost'}:{parsed.port or 6379}"


# Names of this machine's loopback address: a URL's "localhost" is the title's 127.0.0.1.
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
# What redis-server's title shows when it listens on every interface.
_EVERY_INTERFACE = frozenset({"*", "0.0.0.0"})


def _redis_is_ours(cmdline: str, address: str | None) -> bool:
    """redis-server names its address in its process title: "redis-server 127.0.0.1:6379"
    (or "*:6379" when it listens on every interface)."""
    words = cmdline.split()
    if address is None or len(words) < 2 or not words[0].endswith("redis-server"):
        return False
    host, _, port = address.rpartition(":")
    listening, _, listening_port = words[1].rpartition(":")
    if listening_port != port:
        return False
    return (
        listening == host
        or listening in _EVERY_INTERFACE
        or (listening in _LOOPBACK and host in _LOOPBACK)
    )


def _postgres_is_ours(cmdline: str, databases: tuple[str, ...]) -> bool:
    if "/bin/postgres " in cmdline:
        return True  # the postmaster
    if not cmdline.startswith("postgres: "):
        return False
    # "postgres: 15/main: <user> <database> <host>(<port>) <activity>" is a backend;
    # "postgres: 15/main: checkpointer" and the like are the cluster's own processes.
    words = cmdline.split()
    backend = len(words) >= 5 and ("(" in words[4] or words[4] == "[local]")
    return not backend or words[3] in databases
