"""The warm-up gunicorn's master runs before it forks its workers (portal/gunicorn_conf.py,
docs/performance.md «Workers forked warm»): every template compiled, and nothing opened
that a forked worker would share."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.db import connection
from django.template import engines
from django.template.backends.django import DjangoTemplates

from portal.core.warm import connections_drop, process_warm
from tests.served import migrated_sqlite, served_environment, workers_of

ROOT = Path(__file__).resolve().parents[2]


def _project_templates() -> set[str]:
    """Every template of the project by the name a view asks for, found apart from the
    code under test."""
    folders = [ROOT / "portal" / "templates", *(ROOT / "portal").glob("*/templates")]
    return {
        path.relative_to(folder).as_posix()
        for folder in folders
        for path in folder.rglob("*")
        if path.is_file() and path.suffix in {".html", ".txt", ".ics", ".xml"}
    }


def _cached_loader() -> Any:
    engine = engines["django"]
    assert isinstance(engine, DjangoTemplates)
    return engine.engine.template_loaders[0]


def test_the_warm_up_compiles_every_template_of_the_project():
    process_warm()
    compiled = set(_cached_loader().get_template_cache)
    assert _project_templates() <= compiled
    assert "admin/base.html" in compiled  # the installed apps' too (the staff admin)


def test_a_template_compiled_by_the_warm_up_is_not_read_again(monkeypatch):
    process_warm()
    monkeypatch.setattr(_cached_loader(), "get_contents", _no_file_reads)
    # The cabinet's page and the frame it extends come from the compiled ones.
    for name in ("identity/cabinet.html", "base.html"):
        engines["django"].get_template(name)


def _no_file_reads(origin):
    raise AssertionError(f"{origin.name} read from disk after the warm-up")


@pytest.mark.django_db
def test_the_warm_up_sends_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        process_warm()


# On PostgreSQL: Django never closes the in-memory SQLite database of the tests.
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_master_closes_its_database_connection_before_a_fork():
    connection.ensure_connection()
    assert connection.connection is not None
    connections_drop()
    assert connection.connection is None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_workers_forked_from_a_warmed_master_serve_pages(tmp_path, tmp_path_factory):
    """gunicorn with the portal's settings: the master logs its warm-up, both workers
    answer, and a killed worker is forked again from the warmed master and answers too."""
    env = served_environment(tmp_path / "data")
    (tmp_path / "data").mkdir()
    shutil.copyfile(migrated_sqlite(tmp_path_factory, env), tmp_path / "data" / "portal.sqlite3")
    log = tmp_path / "gunicorn.log"
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "portal.wsgi:application",
            "--config", "python:portal.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
            "--workers", "2", "--error-logfile", str(log),
        ],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _until(lambda: len(workers_of(proc.pid)) == 2 and _answers(port), proc, log)
        assert "templates compiled); workers fork from it" in log.read_text()
        first = workers_of(proc.pid)
        os.kill(first[0], signal.SIGKILL)
        _until(lambda: len(set(workers_of(proc.pid)) - set(first)) == 1, proc, log)
        for _ in range(6):  # both workers, the new one among them
            page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
            assert page.status_code == 200
            assert "Запись на приём к врачу" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _until(condition, proc, log: Path, limit: float = 60) -> None:
    started = time.monotonic()
    while not condition():
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() - started < limit, log.read_text()
        time.sleep(0.2)
