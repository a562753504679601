"""Start and stop gunicorn for the benchmark, and read its workers' peak memory."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The portal's own gunicorn settings, as docs/operations.md deploys it: the application
# loaded and warmed in the master, workers forked from it. BENCH_FORKED_WARM=0 measures
# gunicorn's defaults instead (each worker loads the application itself).
PORTAL_CONFIG = "python:portal.gunicorn_conf"
DEFAULT_CONFIG = PORTAL_CONFIG if os.environ.get("BENCH_FORKED_WARM", "1") == "1" else None
# The same settings with each request's time in its worker logged (bench/request_log.py).
if DEFAULT_CONFIG and os.environ.get("BENCH_REQUEST_LOG"):
    DEFAULT_CONFIG = "python:bench.request_log"


# What-ifs for docs/performance.md, never the table's setting: BENCH_WORKERS=2
# BENCH_THREADS=4 serves with gunicorn's gthread workers (four threads each) instead.
WORKERS = int(os.environ.get("BENCH_WORKERS", "0"))
THREADS = int(os.environ.get("BENCH_THREADS", "0"))


def workers_for(cores: int) -> int:
    """The portal's sizing for a host whose PostgreSQL and Redis share its cores, as
    here: one sync worker per core plus one (docs/operations.md, «Workers per core»).
    gunicorn's «two per core plus one» assumes workers that wait on other hosts; here
    their waits are the database's work on the same cores, and on two cores five
    workers spent about 15 % more CPU on the same requests at a fair release's opening
    (docs/performance.md, «Issue 25: workers, one per core plus one»)."""
    if WORKERS:
        return WORKERS
    return max(cores, 1) + 1


def app_node_workers_for(cores: int) -> int:
    """An app node whose database is on other hosts (docs/operations.md, «Several app
    servers»): gunicorn's two sync workers per core plus one, as its workers do wait on
    the network."""
    return 2 * max(cores, 1) + 1


def served_as(workers: int) -> str:
    """How the bench serves the portal, for the table's «Server» line."""
    kind = (
        f"{workers} gthread workers × {THREADS} threads" if THREADS else f"{workers} sync workers"
    )
    start = "forked warm (portal/gunicorn_conf.py)" if DEFAULT_CONFIG else "gunicorn's defaults"
    return f"{kind}, {start}"


class Gunicorn:
    """The portal's gunicorn by default; the peer's (bench/peer.py) with its own interpreter,
    application, settings and a page of its own to wait for."""

    def __init__(
        self,
        port: int,
        workers: int,
        env: dict[str, str],
        log_path: Path,
        *,
        python: str = sys.executable,
        app: str = "portal.wsgi:application",
        settings: str = "bench.settings",
        ready_path: str = "/healthz",
        config: str | None = DEFAULT_CONFIG,
        root: Path = ROOT,
    ) -> None:
        self.port = port
        self.workers = workers
        self.env = env
        self.log_path = log_path
        self.python = python
        self.app = app
        self.settings = settings
        self.ready_path = ready_path
        self.config = config
        # The checkout it serves: another one's (bench/pages_ab.py's baseline) from its root.
        self.root = root
        self.proc: subprocess.Popen[bytes] | None = None

    def _worker_class(self) -> list[str]:
        """Sync workers; gthread ones for the portal when BENCH_THREADS asks (a what-if)."""
        if THREADS and self.app == "portal.wsgi:application":
            return ["--worker-class", "gthread", "--threads", str(THREADS)]
        return ["--worker-class", "sync"]

    def command(self) -> list[str]:
        return [
            self.python,
            "-m",
            "gunicorn",
            self.app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            *self._worker_class(),
            "--backlog",
            "2048",
            "--timeout",
            "60",
            "--error-logfile",
            str(self.log_path),
            *(["--config", self.config] if self.config else []),
        ]

    def start(self) -> None:
        cmd = self.command()
        env = {**os.environ, **self.env, "DJANGO_SETTINGS_MODULE": self.settings}
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log, stderr=log)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()  # never leave a half-started server holding the port
            raise

    def _wait_ready(self, limit: float = 180.0) -> None:
        # Generous: on a machine shared with test runs, the workers may take a minute to boot.
        # (The checks below still fail at once if gunicorn exits.)
        deadline = time.monotonic() + limit
        url = f"http://127.0.0.1:{self.port}{self.ready_path}"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200 and len(self.worker_pids()) >= self.workers:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer on {url}")

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def peak_rss_mb(self) -> list[float]:
        """VmHWM (the kernel's high-water mark of resident memory) of each worker, in MB."""
        return [peak_rss_mb(pid) for pid in self.worker_pids()]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")
