"""`make bench-cluster`: the portal as several stateless app servers (docs/operations.md).

Two gunicorn nodes behind haproxy (Debian's package, installed when missing), one
PostgreSQL primary (the machine's, 5432) with a streaming replica made for the drill
(`pg_basebackup` into a temporary directory, started with `pg_ctl` on 5433 as the
postgres user) and the machine's Redis (sessions, cache, rate-limit counters).

Checked, through the load balancer unless said otherwise:

1. a session works on either node (each node asked directly);
2. sustained booking and the 07:00 rush: bookings/s, latency, 0 double bookings (the
   database is asked, not the clients);
3. the booking rate limit is one budget across both nodes (Redis);
4. the wizard's searches are answered by the replica (its own transaction counter
   grows), bookings are not (it does not grow beyond the router's probes);
5. the replica lags (WAL replay paused past REPLICA_MAX_LAG_SECONDS): searches are
   answered from the primary and show a slot booked a moment ago as gone;
6. the replica stops: searches still answer 200 (the router falls back), bookings go on.

Everything it starts it stops, and the replica's directory is removed, even on failure
or Ctrl-C. Not part of `make test` (minutes, and it needs the machine's PostgreSQL
superuser and Redis).
"""

import asyncio
import contextlib
import os
import random
import re
import secrets
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bench import run as bench_run
from bench.loadgen import Request, Response, Target, closed_loop, fetch
from bench.stats import Run, percentile

if TYPE_CHECKING:
    from bench.dataset import Rush

ROOT = Path(__file__).resolve().parent.parent
PORT_BASE = int(os.environ.get("BENCH_CLUSTER_PORT", "18760"))  # nodes +1, +2; balancer +0
REPLICA_PORT = int(os.environ.get("BENCH_REPLICA_PORT", "5433"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
BOOKINGS = 600
RUSH_PATIENTS = int(os.environ.get("BENCH_RUSH_PATIENTS", "500"))
RUSH_SLOTS = int(os.environ.get("BENCH_RUSH_SLOTS", "50"))
SEARCHES = 300
PHASE_LIMIT = 30.0
RUSH_LIMIT = 240.0
RATE_BOOKING_USER = 10  # per 10 minutes, the production default (docs/security.md)
MAX_LAG = 2.0  # REPLICA_MAX_LAG_SECONDS for the drill
CHECK_EVERY = 1.0  # REPLICA_CHECK_SECONDS for the drill
HBA_LINE = "host replication all 127.0.0.1/32 trust  # bench-cluster drill"
SLOT_LINK = re.compile(rb'href="/booking/slot/(\d+)/"')


def log(message: str) -> None:
    print(f"[cluster {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _have(cmd: str) -> bool:
    return shutil.which(cmd) is not None


def _apt_install(*packages: str) -> None:
    """As .ci/run does: Debian's packages, installed only when missing."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=env)


def _pg_bin() -> Path:
    """The server binaries of the machine's cluster (pg_ctl is not on PATH on Debian)."""
    version = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version_num"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    path = Path(f"/usr/lib/postgresql/{int(version) // 10000}/bin")
    if not (path / "pg_ctl").exists():
        raise RuntimeError(f"pg_ctl not found in {path}")
    return path


def _psql(sql: str, port: int = 5432, db: str = "postgres") -> str:
    done = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", db, "-Atc", sql],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def _as_postgres(*cmd: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd]


class Cleanup:
    """A stack of undo steps run in reverse, each on its own, whatever failed before."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, Callable[[], object]]] = []

    def push(self, name: str, step: Callable[[], object]) -> None:
        self.steps.append((name, step))

    def run(self) -> None:
        while self.steps:
            name, step = self.steps.pop()
            try:
                step()
            except Exception as exc:  # one failed undo must not keep the others from running
                log(f"cleanup: {name} failed: {exc}")


@dataclass
class Replica:
    directory: Path
    port: int
    pg_bin: Path

    def ctl(self, *args: str, check: bool = True) -> None:
        cmd = _as_postgres(str(self.pg_bin / "pg_ctl"), "-D", str(self.directory), *args)
        subprocess.run(cmd, check=check, capture_output=True)

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c hot_standby=on "
            f"-c unix_socket_directories={self.directory} "
            # A hot standby refuses to start with fewer connections than its primary.
            f"-c max_connections={_psql('SHOW max_connections')} "
            "-c shared_buffers=64MB -c hot_standby_feedback=on"
        )
        log_file = self.directory / "replica.log"
        self.ctl("-o", options, "-l", str(log_file), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self.ctl("-m", mode, "-w", "-t", "30", "stop", check=False)

    def sql(self, query: str, db: str = "postgres") -> str:
        return _psql(query, self.port, db)


def _replication_allowed(cleanup: Cleanup) -> None:
    """pg_basebackup needs a replication line in pg_hba.conf; add ours for the drill only."""
    hba = Path(_psql("SHOW hba_file"))
    text = hba.read_text()
    if re.search(r"^\s*host\s+replication\s", text, re.M):
        return
    hba.write_text(text.rstrip("\n") + "\n" + HBA_LINE + "\n")
    _psql("SELECT pg_reload_conf()")
    log("pg_hba.conf: replication from 127.0.0.1 allowed for the drill")

    def restore() -> None:
        hba.write_text(
            "".join(line for line in hba.read_text().splitlines(True) if HBA_LINE not in line)
        )
        _psql("SELECT pg_reload_conf()")

    cleanup.push("pg_hba.conf", restore)


def replica_create(cleanup: Cleanup) -> Replica:
    pg_bin = _pg_bin()
    _replication_allowed(cleanup)
    parent = Path(tempfile.mkdtemp(prefix="portal-replica-"))
    cleanup.push("replica directory", lambda: shutil.rmtree(parent, ignore_errors=True))
    directory = parent / "data"
    shutil.chown(parent, "postgres", "postgres")
    log(f"pg_basebackup of 127.0.0.1:5432 into {directory}")
    subprocess.run(
        _as_postgres(
            str(pg_bin / "pg_basebackup"), "-h", "127.0.0.1", "-p", "5432", "-U", "postgres",
            "-D", str(directory), "--write-recovery-conf", "--wal-method=stream",
            "--checkpoint=fast",
        ),
        check=True,
    )  # fmt: skip
    # Debian keeps postgresql.conf and pg_hba.conf in /etc, outside the copied directory.
    for name, text in {
        "postgresql.conf": "# the drill's replica: options on pg_ctl's command line\n",
        "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        "pg_ident.conf": "",
    }.items():
        if not (directory / name).exists():
            (directory / name).write_text(text)
            shutil.chown(directory / name, "postgres", "postgres")
    replica = Replica(directory, REPLICA_PORT, pg_bin)
    cleanup.push("replica", lambda: replica.stop("immediate"))
    try:
        replica.start()
    except subprocess.CalledProcessError:
        log_file = directory / "replica.log"
        if log_file.exists():
            log("replica did not start:\n" + log_file.read_text()[-2000:])
        raise
    log(f"replica streaming on 127.0.0.1:{REPLICA_PORT}")
    return replica


def haproxy_start(
    cleanup: Cleanup, port: int, nodes: list[int], workers: int, workdir: Path
) -> None:
    if not _have("haproxy"):
        log("haproxy missing: apt-get install haproxy")
        _apt_install("haproxy")
    servers = "\n".join(
        # maxconn = the node's sync workers: haproxy queues the rest itself, so a health
        # check waits behind one request at most instead of behind gunicorn's backlog
        # (a node marked down under load would turn the queue into 503s).
        f"    server node{i} 127.0.0.1:{p} maxconn {workers} check inter 2s fall 3 rise 1"
        for i, p in enumerate(nodes, 1)
    )
    config = workdir / "haproxy.cfg"
    config.write_text(
        f"""global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout queue 300s
    timeout check 10s
    option httpchk GET /healthz
frontend portal
    bind 127.0.0.1:{port}
    default_backend nodes
backend nodes
    balance roundrobin
    http-request set-header X-Real-IP %[src]
{servers}
"""
    )
    out = (workdir / "haproxy.log").open("ab")
    proc = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=out, stderr=out)
    cleanup.push("haproxy", lambda: _stop(proc))
    time.sleep(1.0)
    if proc.poll() is not None:
        raise RuntimeError(f"haproxy exited; see {workdir / 'haproxy.log'}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Figures:
    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, what: str, figure: str, verdict: str = "") -> None:
        self.rows.append((what, figure, verdict))
        log(f"{what}: {figure} {verdict}")

    def markdown(self) -> str:
        header = ("Measure", "Figure", "")
        cells = [header, *self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

        def line(row: tuple[str, str, str]) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return "\n".join([line(header), rule, *(line(row) for row in self.rows)])


def main() -> int:
    env = bench_run._environment()
    bench_run._database_create(env["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings

    from bench import dataset
    from bench.server import Gunicorn, app_node_workers_for

    cleanup = Cleanup()
    figures = Figures()
    started = time.monotonic()

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    workdir = Path(tempfile.mkdtemp(prefix="portal-cluster-"))
    kept = Path(env["PORTAL_DATA_DIR"]) / "cluster"

    def keep_logs() -> None:
        """The nodes' and the balancer's logs outlive the drill, for a look afterwards."""
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir(parents=True)
        for log_file in workdir.glob("*.log"):
            shutil.copy(log_file, kept / log_file.name)
        shutil.rmtree(workdir, ignore_errors=True)

    cleanup.push("work directory", keep_logs)
    try:
        data_dir = Path(env["PORTAL_DATA_DIR"])
        dataset.dataset_ensure(bench_run.SCALE, data_dir / "dataset.json", env, log)
        dataset.bench_reset()
        cleanup.push("bench appointments", dataset.bench_reset)
        patients = dataset.bench_patients(max(RUSH_PATIENTS, BOOKINGS) + 20)
        # Rate-limit windows of an earlier run (10 minutes) would refuse this one's POSTs.
        from django.core.cache import cache

        cache.clear()
        replica = replica_create(cleanup)
        db_name = env["DATABASE_URL"].rsplit("/", 1)[1]
        replica_url = f"postgres://postgres@127.0.0.1:{REPLICA_PORT}/{db_name}"

        # Two nodes of the same code and settings; only the port differs. Rate limits on,
        # as in production, with the per-IP budget out of the way (all load is one IP).
        node_env = {
            **env,
            "DATABASE_REPLICA_URL": replica_url,
            "REPLICA_MAX_LAG_SECONDS": str(MAX_LAG),
            "REPLICA_CHECK_SECONDS": str(CHECK_EVERY),
            "RATELIMIT_ENABLE": "1",
            "RATE_BOOKING_USER": f"{RATE_BOOKING_USER}/10m",
            "RATE_BOOKING_IP": "1000000/m",
            "RATE_CANCEL_IP": "1000000/m",
            "CLIENT_IP_HEADER": "HTTP_X_REAL_IP",
            "TRUSTED_PROXIES": "127.0.0.1",
            "NEAREST_CACHE_SECONDS": "0",  # every search reads: the replica's share shows
        }
        if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
            raise RuntimeError("the drill needs Redis on 127.0.0.1:6379 (shared counters)")
        balancer = PORT_BASE
        node_ports = [PORT_BASE + 1, PORT_BASE + 2]
        # Each node an app node on half of this host's cores, as the drill's recorded
        # figures were taken (3 workers a node on two cores); a failover drill, not a
        # throughput one.
        workers = max(2, app_node_workers_for(os.cpu_count() or 1) // 2 + 1)
        nodes = []
        for port in node_ports:
            node = Gunicorn(port, workers, node_env, workdir / f"gunicorn-{port}.log")
            cleanup.push(f"gunicorn {port}", node.stop)
            node.start()
            nodes.append(node)
        haproxy_start(cleanup, balancer, node_ports, workers, workdir)
        log(f"haproxy on 127.0.0.1:{balancer} → nodes {node_ports} ({workers} workers each)")
        lb = Target("127.0.0.1", balancer)

        csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))

        def cookies(n: int) -> dict[str, str]:
            return {
                settings.SESSION_COOKIE_NAME: patients[n % len(patients)].session_key,
                settings.CSRF_COOKIE_NAME: csrf,
            }

        def book(n: int, slot_id: int) -> Request:
            form = {"csrfmiddlewaretoken": csrf, "key": str(uuid.uuid4())}
            return Request("POST", f"/booking/slot/{slot_id}/", cookies(n), form)

        def load(name: str, make: Callable[[int], Request], count: int) -> Run:
            result = Run(name)
            asyncio.run(
                closed_loop(lb, result, make, concurrency=CONCURRENCY, count=count,
                            time_limit=PHASE_LIMIT)
            )  # fmt: skip
            log(f"{name}: {result.count} requests, {result.per_second:.0f}/s, "
                f"statuses {result.statuses}, errors {result.errors}")  # fmt: skip
            return result

        def replica_xacts() -> int:
            return int(replica.sql(
                f"SELECT xact_commit + xact_rollback FROM pg_stat_database "
                f"WHERE datname = '{db_name}'"
            ))  # fmt: skip

        path = dataset.wizard_path()
        nearest = f"/booking/nearest/?specialty={path.specialty_id}&place={path.district_id}"
        load("warm-up", lambda n: Request("GET", "/booking/", cookies(n)), 60)

        # 1. One session, either node.
        both = 0
        for n in range(20):
            codes = [
                asyncio.run(fetch(Target("127.0.0.1", p), Request("GET", "/cabinet/", cookies(n))))
                .status for p in node_ports
            ]  # fmt: skip
            both += codes == [200, 200]
        figures.add("Sessions valid on either node (of 20, each node asked directly)",
                    f"{both} / 20", "ok" if both == 20 else "MISSED")  # fmt: skip

        # 4a. Searches through the balancer: the replica answers them.
        before = replica_xacts()
        searches = load("searches", lambda n: Request("GET", nearest, cookies(n)), SEARCHES)
        during_search = replica_xacts() - before
        figures.add(
            "Nearest-time searches through the balancer (req/s, p95 ms, 5xx)",
            f"{searches.per_second:.0f} ({searches.ms(95):.0f}), {searches.server_errors}",
            "ok" if searches.server_errors == 0 else "MISSED",
        )
        figures.add(
            "… transactions on the replica during them",
            f"{during_search} for {searches.count} searches",
            "ok" if during_search >= searches.count else "MISSED",
        )

        # 2. Sustained booking through both nodes.
        slots = dataset.sustained_slots(BOOKINGS, seed=23)
        before = replica_xacts()
        booking = load("sustained booking", lambda n: book(n, slots[n]), len(slots))
        on_replica = replica_xacts() - before
        booked = booking.statuses.get(302, 0)
        bps = booked / booking.duration if booking.duration else 0.0
        check = _double_bookings(slots)
        figures.add(
            f"Sustained booking through 2 nodes, {CONCURRENCY} clients (bookings/s)",
            f"{bps:.0f}; {booked}/{len(slots)} booked",
        )
        figures.add(
            "… latency p50 / p95 / p99 (ms)",
            " / ".join(f"{booking.ms(p):.0f}" for p in (50, 95, 99)),
        )
        figures.add("… double bookings / 5xx", f"{check} / {booking.server_errors}",
                    "ok" if check == 0 and booking.server_errors == 0 else "MISSED")  # fmt: skip
        # Only the router's probes (one per worker per CHECK_EVERY) may touch the replica.
        probes = int(2 * workers * (booking.duration / CHECK_EVERY + 2))
        figures.add(
            "… transactions on the replica during the bookings (router probes only)",
            f"{on_replica} (probe budget {probes})",
            "ok" if on_replica <= probes else "MISSED",
        )
        dataset.bench_reset()

        # 3. One rate-limit budget across both nodes.
        n_spare = len(patients) - 1
        limited_slots = dataset.sustained_slots(RATE_BOOKING_USER * 2 + 2, seed=29)
        codes = [
            asyncio.run(fetch(lb, book(n_spare, s))).status
            for s in limited_slots[: RATE_BOOKING_USER * 2]
        ]
        counted = sum(1 for c in codes if c != 429)
        figures.add(
            f"Booking POSTs of one user alternating over 2 nodes before 429 "
            f"(limit {RATE_BOOKING_USER}/10 min)",
            f"{counted} of {len(codes)}",
            "ok" if counted == RATE_BOOKING_USER else "MISSED",
        )
        dataset.bench_reset()

        # 2b. The rush through both nodes.
        rush = dataset.rush_prepare(RUSH_SLOTS, opens_in=3.0)
        rush_run, rush_booked, duration = _rush(rush, cookies, book, lb)
        rush_check = dataset.rush_check(rush)
        p99 = percentile(rush_run.latencies, 99) * 1000
        figures.add(
            f"Rush through 2 nodes: {RUSH_PATIENTS} patients, {RUSH_SLOTS} slots",
            f"{rush_booked} booked (database: {rush_check.booked_slots}), "
            f"{rush_run.count} requests in {duration:.0f} s",
            "ok" if rush_check.booked_slots == RUSH_SLOTS else "MISSED",
        )
        figures.add(
            "… double bookings / patients with two / 5xx",
            f"{rush_check.double_booked_slots} / {rush_check.patients_with_two} / "
            f"{rush_run.server_errors}",
            "ok"
            if rush_check.double_booked_slots == 0 and rush_check.patients_with_two == 0
            and rush_run.server_errors == 0
            else "MISSED",
        )  # fmt: skip
        figures.add("… request latency p50 / p99 (ms)", f"{rush_run.ms(50):.0f} / {p99:.0f}")
        dataset.bench_reset()

        # 5. The replica lags: replay paused, the primary keeps writing.
        replica.sql("SELECT pg_wal_replay_pause()")
        cleanup.push(
            "replay resume", lambda: _quietly(replica.sql, "SELECT pg_wal_replay_resume()")
        )
        taken = dataset.sustained_slots(1, seed=31)[0]
        with _django_booked(patients[-2].user_id, taken):
            _psql("SELECT pg_switch_wal()")  # the replica receives WAL it does not replay
            time.sleep(MAX_LAG + 2 * CHECK_EVERY + 1)
            lag = replica.sql(
                "SELECT round(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()))"
            )
            before = replica_xacts()
            doctor_day = f"/booking/doctor/{_doctor_of(taken)}/{_day_of(taken)}/"
            pages = load("searches, replica lagging",
                         lambda n: Request("GET", doctor_day, cookies(n)), 100)  # fmt: skip
            read_there = replica_xacts() - before
            shown = asyncio.run(fetch(lb, Request("GET", doctor_day, cookies(0))))
            stale = f'href="/booking/slot/{taken}/"'.encode() in shown.body
        probes = int(2 * workers * (pages.duration / CHECK_EVERY + 2))
        figures.add(
            f"Replica lagging ({lag} s behind, limit {MAX_LAG:.0f} s): searches 200 / 5xx",
            f"{pages.statuses.get(200, 0)} / {pages.server_errors}",
            "ok" if pages.server_errors == 0 else "MISSED",
        )
        figures.add(
            "… answered by the primary (replica transactions: probes only; the slot just "
            "booked not shown)",
            f"{read_there} (probe budget {probes}); shown: {'yes' if stale else 'no'}",
            "ok" if read_there <= probes and not stale else "MISSED",
        )
        replica.sql("SELECT pg_wal_replay_resume()")

        # 6. The replica stops.
        replica.stop("immediate")
        stopped = load("searches, replica stopped",
                       lambda n: Request("GET", nearest, cookies(n)), 200)  # fmt: skip
        more = dataset.sustained_slots(100, seed=37)
        after = load("bookings, replica stopped", lambda n: book(n, more[n]), len(more))
        figures.add(
            "Replica stopped: searches 200 / 5xx; bookings 302 / 5xx",
            f"{stopped.statuses.get(200, 0)} / {stopped.server_errors}; "
            f"{after.statuses.get(302, 0)} / {after.server_errors}",
            "ok" if stopped.server_errors == 0 and after.server_errors == 0 else "MISSED",
        )
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        return 130
    finally:
        cleanup.run()
        log(f"cleaned up ({time.monotonic() - started:.0f} s in all)")
    block = figures.markdown()
    print()
    print(block)
    _docs_update(block, workers)
    return 0 if all(r[2] != "MISSED" for r in figures.rows) else 1


def _quietly(step: Callable[[str], object], arg: str) -> None:
    """An undo that has nothing to undo once the replica is stopped."""
    with contextlib.suppress(subprocess.CalledProcessError):
        step(arg)


def _double_bookings(slot_ids: list[int]) -> int:
    from django.db.models import Count

    from portal.scheduling.models import Appointment

    return (
        Appointment.objects.filter(slot_id__in=slot_ids, status=Appointment.Status.BOOKED)
        .values("slot_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )


@contextlib.contextmanager
def _django_booked(user_id: int, slot_id: int) -> Iterator[None]:
    """Book ``slot_id`` on the primary through the service (the replica will not see it)."""
    from portal.identity.models import User
    from portal.scheduling.services import appointment_book

    user = User.objects.get(pk=user_id)
    appointment_book(
        actor=user, patient=user.patient, slot_id=slot_id, idempotency_key=uuid.uuid4()
    )
    yield


def _doctor_of(slot_id: int) -> int:
    from portal.scheduling.models import Slot

    return Slot.objects.values_list("doctor_id", flat=True).get(pk=slot_id)


def _day_of(slot_id: int) -> str:
    from django.utils import timezone

    from portal.scheduling.models import Slot

    return timezone.localtime(Slot.objects.get(pk=slot_id).starts_at).date().isoformat()


def _rush(
    rush: "Rush",
    cookies: Callable[[int], dict[str, str]],
    book: Callable[[int, int], Request],
    target: Target,
) -> tuple[Run, int, float]:
    """The 07:00 rush of `make bench` (bench/run.py), through the balancer."""
    run = Run("rush")
    booked = 0
    nearest = f"/booking/nearest/?specialty={rush.specialty_id}&place={rush.district_id}"
    start_wall = rush.opens_at.timestamp()
    deadline = time.perf_counter() + (start_wall - time.time()) + RUSH_LIMIT
    slow = Target(target.host, target.port, timeout=RUSH_LIMIT)

    async def timed(request: Request) -> Response | None:
        try:
            response = await fetch(slow, request)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
            run.errors += 1
            return None
        run.record(response.status, response.latency)
        return response

    async def patient(n: int) -> None:
        nonlocal booked
        rng = random.Random(n)
        await asyncio.sleep(max(0.0, start_wall - time.time()))
        for _ in range(5):
            if time.perf_counter() > deadline:
                return
            found = await timed(Request("GET", nearest, cookies(n)))
            if found is None or found.status != 200:
                continue
            ids = [int(i) for i in SLOT_LINK.findall(found.body)]
            if not ids:
                return
            turn = rng.randrange(len(ids))
            for slot_id in ids[turn:] + ids[:turn]:
                if time.perf_counter() > deadline:
                    return
                answer = await timed(book(n, slot_id))
                if answer is not None and answer.status == 302:
                    booked += 1
                    return

    async def everyone() -> float:
        begin = time.perf_counter() + max(0.0, start_wall - time.time())
        await asyncio.gather(*(patient(n) for n in range(RUSH_PATIENTS)))
        return time.perf_counter() - begin

    duration = asyncio.run(everyone())
    run.duration = duration
    return run, booked, duration


DOCS_START = "<!-- bench:cluster:start -->"
DOCS_END = "<!-- bench:cluster:end -->"


def _docs_update(block: str, workers: int) -> None:
    docs = ROOT / "docs" / "performance.md"
    if not docs.exists() or os.environ.get("BENCH_WRITE_DOCS", "1") != "1":
        return
    text = docs.read_text()
    body = (
        f"{DOCS_START}\n{time.strftime('%Y-%m-%d')}, nproc {os.cpu_count()}: haproxy → 2 gunicorn "
        f"nodes × {workers} sync workers, primary 5432 + streaming replica {REPLICA_PORT}, "
        f"Redis; {CONCURRENCY} clients.\n\n{block}\n{DOCS_END}"
    )
    pattern = re.compile(re.escape(DOCS_START) + ".*?" + re.escape(DOCS_END), re.S)
    text = pattern.sub(lambda _: body, text) if pattern.search(text) else text + "\n" + body + "\n"
    docs.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
