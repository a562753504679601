"""Background work outlives a database blip (issue 24, point 3; docs/operations.md).

Before: a 12–15 s outage made `db_worker`, both sweeps and the draw runner exit and stay
down. The loop's rule is tested directly; on PostgreSQL a real worker process has its
connection killed mid-run and must go on, and the control shows the library's own worker
does not.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import OperationalError, connection

from portal.core import resilience

ROOT = Path(__file__).resolve().parents[2]
WORKER_OPTIONS = ("--interval", "0.2", "--no-startup-delay")


class _Stop(Exception):
    pass


@pytest.mark.django_db
def test_the_loop_waits_longer_after_each_failure_and_goes_on(caplog):
    results = iter([OperationalError("server closed the connection"), OperationalError("down")])
    ran: list[int] = []
    pauses: list[float] = []

    def step():
        if (failure := next(results, None)) is not None:
            raise failure
        ran.append(1)
        if len(ran) == 2:
            raise _Stop

    with pytest.raises(_Stop):
        resilience.repeat(step, every=5, what="sweep", sleep=pauses.append)
    assert pauses == [1.0, 2.0, 5]  # the back-off, then the normal pause
    assert len(ran) == 2
    assert "sweep: the database is unavailable" in caplog.text
    assert "the database is back after 2 failed tries" in caplog.text


def test_the_back_off_stops_growing_at_thirty_seconds():
    assert [resilience.backoff(n) for n in (1, 2, 3, 5, 6, 20)] == [1, 2, 4, 16, 30, 30]


@pytest.mark.django_db
def test_run_once_a_database_error_is_raised_for_cron_to_retry():
    def step():
        raise OperationalError("down")

    with pytest.raises(OperationalError):
        resilience.repeat(step, every=0, what="sweep", sleep=lambda _: None)


# --- a real worker behind a database that stops answering (PostgreSQL) -----------------


def _worker(command: str, proxy_port: int, name: str, log: Path) -> "subprocess.Popen[bytes]":
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@127.0.0.1:{proxy_port}/{db['NAME']}"
        f"?application_name={name}"
    )
    # Short bounds so the outage is noticed within seconds (the order E010 asks for).
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SCHEDULING_LOCK_TIMEOUT_MS": "500",
        "DB_STATEMENT_TIMEOUT_MS": "1500",
        "DB_CONNECT_TIMEOUT": "1",
    }
    # `--no-reload` as production runs it: with the reloader the library's worker thread dies
    # and leaves a process that only watches files.
    return subprocess.Popen(
        [sys.executable, "manage.py", command, "--no-reload", *WORKER_OPTIONS],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _connected(name: str, deadline: float) -> None:
    """Wait until the worker is connected and polling: the outage must meet it there."""
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE application_name = %s", [name])
            if cursor.fetchone():
                return
        time.sleep(0.2)
    raise AssertionError("the worker never connected")


def _done(task_id: str, deadline: float, worker: "subprocess.Popen[bytes]") -> bool:
    """Whether the worker ran the task before the deadline; a worker that has exited
    never will, so the wait ends there (the control's dead worker: 30 s less of CI)."""
    from django_tasks_db.models import DBTaskResult

    while time.monotonic() < deadline:
        if DBTaskResult.objects.filter(pk=task_id, status="SUCCESSFUL").exists():
            return True
        if worker.poll() is not None:
            return DBTaskResult.objects.filter(pk=task_id, status="SUCCESSFUL").exists()
        time.sleep(0.2)
    return False


def _outage_drill(command: str, log: Path) -> tuple[bool, int | None]:
    """The worker's database stops answering for 5 s, then comes back; then it is given a
    task. Did it run it, and is the process still up (None) or gone (its exit code)?"""
    from bench.fault_pg_hang import HangProxy
    from portal.notifications.delivery import deliver_messages

    db = connection.settings_dict
    proxy = HangProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))).start()
    name = f"drill-{uuid.uuid4().hex[:12]}"
    worker = _worker(command, proxy.port, name, log)
    try:
        _connected(name, time.monotonic() + 60)
        proxy.hang()
        time.sleep(5)
        proxy.resume()
        task = deliver_messages.enqueue([])
        return _done(task.id, time.monotonic() + 30, worker), worker.poll()
    finally:
        worker.kill()
        worker.wait(timeout=10)
        proxy.stop()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_tasks_worker_outlives_a_database_that_stopped_answering(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the drill proxies PostgreSQL")
    log = tmp_path / "worker.log"
    ran, exit_code = _outage_drill("tasks_worker", log)
    assert exit_code is None, "the worker died"
    assert "the database is unavailable" in log.read_text(), "the outage never reached it"
    assert ran, "the worker did not run the task given after the outage"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_control_the_librarys_worker_dies_in_the_same_outage(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the drill proxies PostgreSQL")
    log = tmp_path / "worker.log"
    ran, exit_code = _outage_drill("db_worker", log)
    assert exit_code is not None and not ran
