"""A slow ESIA against gunicorn as docs/operations.md deploys it (sync workers, timeout 30).

Two logins at once, one through a token endpoint that drips a byte every 4 s, one
through an ESIA that takes 8 s for every call: each ends on the Russian retry page
at the 10 s login deadline, `/healthz` keeps answering on the third worker all the
while, and gunicorn kills no worker. Before the deadline existed, the dripping login
held its worker until gunicorn killed it at 30 s.
"""

import fcntl
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.esia_fixtures import ISSUER, emulator_choose, esia_configure
from tests.identity.test_login_flow import ANNA, IVAN, PETROV
from tests.served import migrated_sqlite, served_environment, shared_folder, workers_of
from tests.slow_esia import slow_esia

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 10.0  # the default ESIA_LOGIN_DEADLINE_SECONDS
WORKER_TIMEOUT = 30


def _environment(data_dir: Path, keys, esia_url: str, portal_url: str) -> dict[str, str]:
    return served_environment(data_dir) | {
        "ESIA_EMULATOR_ENABLED": "0",
        "ESIA_BASE_URL": esia_url,
        "ESIA_ISSUER": ISSUER,
        "ESIA_CLIENT_ID": "PORTAL_TEST",
        "ESIA_REDIRECT_URI": f"{portal_url}/login/esia/callback/",
        "ESIA_LOGOUT_REDIRECT_URL": f"{portal_url}/",
        "ESIA_SIGNER": "gost-file",
        "ESIA_CLIENT_KEY": str(keys.client_key),
        "ESIA_CLIENT_CERT": str(keys.client_cert),
        "ESIA_CERT": str(keys.emulator_cert),
        "ESIA_LOGIN_DEADLINE_SECONDS": str(DEADLINE),
    }


@pytest.fixture
def slow_esia_url(esia_emulator_url):
    yield from slow_esia(esia_emulator_url)


@pytest.fixture
def _one_drill_at_a_time(tmp_path_factory):
    """The drills time logins against a 10 s deadline on a 2-core machine: two of them at
    once (three gunicorn workers each) starved one login 2 s past its bound. A file lock
    every xdist worker shares keeps them apart; the other tests go on meanwhile."""
    with (shared_folder(tmp_path_factory) / "drill").open("w") as drill:
        fcntl.flock(drill, fcntl.LOCK_EX)
        yield


@pytest.fixture
def gunicorn(
    request, tmp_path, tmp_path_factory, esia_keys, slow_esia_url, settings, _one_drill_at_a_time
):
    url, behaviour = slow_esia_url
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))  # ephemeral: handed to gunicorn as a file descriptor
    listener.listen(128)
    portal_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    esia_configure(settings, esia_keys, url, portal_url)  # the emulator checks against these
    env = _environment(tmp_path / "data", esia_keys, url, portal_url)
    env |= getattr(request, "param", {})  # a test's own settings, by indirect parametrize
    (tmp_path / "data").mkdir()
    shutil.copyfile(migrated_sqlite(tmp_path_factory, env), tmp_path / "data" / "portal.sqlite3")
    log = tmp_path / "gunicorn.log"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "portal.wsgi:application",
            "--config", "python:portal.gunicorn_conf",
            "--bind", f"fd://{listener.fileno()}", "--workers", "3", "--worker-class", "sync",
            "--timeout", str(WORKER_TIMEOUT), "--graceful-timeout", "5",
            "--error-logfile", str(log),
        ],
        cwd=ROOT, env=env, pass_fds=[listener.fileno()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        started = time.monotonic()
        while time.monotonic() - started < 60:
            try:
                healthy = httpx.get(f"{portal_url}/healthz", timeout=2).status_code == 200
                if healthy and len(workers_of(proc.pid)) == 3:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, log.read_text()
            time.sleep(0.3)
        yield portal_url, behaviour, proc, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        listener.close()


def _login(portal_url: str, oid: str, results: dict) -> None:
    with httpx.Client(base_url=portal_url, timeout=WORKER_TIMEOUT + 15) as browser:
        start = browser.get("/login/esia/")
        back = emulator_choose(start.headers["location"], oid=oid)
        started = time.monotonic()
        response = browser.get(back.removeprefix(portal_url))
        results[oid] = (response, time.monotonic() - started)


def test_a_slow_esia_costs_logins_ten_seconds_and_never_a_worker(gunicorn):
    portal_url, behaviour, proc, log = gunicorn
    behaviour.modes |= {ANNA: "drip", IVAN: "slow"}
    behaviour.drip, behaviour.delay = 4.0, 8.0
    workers_before = sorted(workers_of(proc.pid))

    results: dict = {}
    logins = [
        threading.Thread(target=_login, args=(portal_url, oid, results)) for oid in (ANNA, IVAN)
    ]
    for thread in logins:
        thread.start()
    health: list[tuple[int | str, float]] = []
    while any(thread.is_alive() for thread in logins):
        asked = time.monotonic()
        try:
            status: int | str = httpx.get(f"{portal_url}/healthz", timeout=5).status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        health.append((status, time.monotonic() - asked))
        time.sleep(0.5)
    for thread in logins:
        thread.join()

    for oid in (ANNA, IVAN):
        response, elapsed = results[oid]
        assert response.status_code == 503, (oid, response.status_code)
        assert "Госуслуги (ЕСИА) сейчас не отвечают" in response.text
        assert int(response.headers["retry-after"]) > 0
        # Ended at the deadline, give or take a loaded machine's scheduling (12.3 s was
        # seen once under CI's load); without it the dripping login would hold its worker
        # until gunicorn killed it at 30 s, and the slow one would take 24 s and more.
        assert DEADLINE - 1 < elapsed < DEADLINE + 3, (oid, elapsed)
    assert len(health) >= 10
    assert all(status == 200 for status, _ in health), health
    # Each probe answered well inside the login deadline: a free worker served it while
    # the two logins waited for ESIA (2 s was too tight on a loaded 2-core machine).
    assert max(seconds for _, seconds in health) < DEADLINE / 2, health
    assert sorted(workers_of(proc.pid)) == workers_before, "no worker was killed or replaced"
    assert "WORKER TIMEOUT" not in log.read_text()
    # What the slow ESIA saw: the dripping token call; Ivan's 8-second token call and,
    # if any time was left after it (a busy machine signs and verifies slower), the
    # person call that the deadline cut. Never his children's: they were never reached.
    paths = [(mode, path) for mode, path, _ in behaviour.calls if mode != "fast"]
    assert ("drip", "/aas/oauth2/v3/te") in paths
    assert ("slow", "/aas/oauth2/v3/te") in paths
    assert not any(path.endswith("/docs") for _, path in paths)


Health = list[tuple[int | str, float]]


def _health_during(portal_url: str, logins: list[threading.Thread]) -> Health:
    health: Health = []
    while any(thread.is_alive() for thread in logins):
        asked = time.monotonic()
        try:
            status: int | str = httpx.get(f"{portal_url}/healthz", timeout=15).status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        health.append((status, time.monotonic() - asked))
        time.sleep(0.2)
    return health


@pytest.mark.parametrize("gunicorn", [{"ESIA_CONCURRENT_LOGINS": "1"}], indirect=True)
def test_logins_stuck_on_a_slow_esia_leave_the_other_workers_free(gunicorn):
    """Three logins at once on three workers, ESIA taking 8 s per call. Before: all three
    workers waited for ESIA and `/healthz` went unanswered for about 8 s (issue 24, point 9).
    Now one login holds the one slot; the two others hear «try again» within the 2 s slot
    wait, and every other request is served throughout."""
    portal_url, behaviour, _proc, log = gunicorn
    behaviour.modes |= {ANNA: "slow", IVAN: "slow", PETROV: "slow"}
    behaviour.delay = 8.0

    results: dict = {}
    logins = [
        threading.Thread(target=_login, args=(portal_url, oid, results))
        for oid in (ANNA, IVAN, PETROV)
    ]
    for thread in logins:
        thread.start()
    health = _health_during(portal_url, logins)
    for thread in logins:
        thread.join()

    busy = [
        elapsed
        for response, elapsed in results.values()
        if response.status_code == 503 and "много людей входят одновременно" in response.text
    ]
    waited = [
        elapsed
        for response, elapsed in results.values()
        if response.status_code == 503 and "сейчас не отвечают" in response.text
    ]
    assert len(busy) == 2 and len(waited) == 1, results
    assert max(busy) < 4, busy  # the 2 s slot wait, not the 10 s deadline
    assert all(status == 200 for status, _ in health), health
    assert max(seconds for _, seconds in health) < 3, health
    assert "WORKER TIMEOUT" not in log.read_text()
    # Only the admitted login reached ESIA's token endpoint.
    assert [path for mode, path, _ in behaviour.calls if mode == "slow"].count(
        "/aas/oauth2/v3/te"
    ) == 1
