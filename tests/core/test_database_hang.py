"""A hung PostgreSQL (accepts, never answers) behind a proxy the test controls (issue 24).

Before: no connect or statement timeout, so every request waited until gunicorn killed
its worker at 30 s, and /healthz answered 500 after 51 s. Now every wait is bounded
(`portal.core.postgresql`): 503s in their own format within seconds, no worker killed,
nothing half-written. `make fault-pg-hang` is the same drill with printed figures.
"""

import re
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from bench.fault_pg_hang import (
    HangProxy,
    drill,
    failures_of,
    gunicorn,
    half_written,
    server_env,
    stand_prepare,
)
from portal.core.postgresql.base import (
    BoundedConnection,
    DatabaseUnanswered,
    unanswered_forget,
    unanswered_recently,
)

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

PORT = 18612  # gunicorn; the proxy takes a free port of its own


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("a hung PostgreSQL needs PostgreSQL")
    unanswered_forget()
    yield
    unanswered_forget()


@pytest.fixture
def proxy():
    database = connection.settings_dict
    hung = HangProxy((database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432))).start()
    yield hung
    hung.stop()


def _url(port: int) -> str:
    database = connection.settings_dict
    return f"postgres://{database['USER']}@127.0.0.1:{port}/{database['NAME']}"


def test_a_statement_on_a_hung_server_ends_at_the_deadline_and_closes_the_connection(proxy):
    conn = psycopg.connect(_url(proxy.port), connect_timeout=2)
    conn.__class__ = BoundedConnection
    conn.answer_timeout = 1.5  # type: ignore[attr-defined]
    conn.alias = "hang-test"  # type: ignore[attr-defined]
    assert conn.execute("SELECT 1").fetchone() == (1,)
    proxy.hang()
    started = time.monotonic()
    with pytest.raises(DatabaseUnanswered):
        conn.execute("SELECT 1")
    assert 1.4 < time.monotonic() - started < 3
    assert conn.closed
    assert unanswered_recently("hang-test")


def test_the_users_read_standing_for_the_health_check_gives_up_within_its_second(proxy):
    """A read that stands for the health check (core.compiled's health_check reads, the
    session's user) waits the check's second on a hung server, not the statement deadline."""
    from django.db import OperationalError

    from portal.core.postgresql.base import HEALTH_CHECK_SECONDS, DatabaseWrapper

    wrapper = DatabaseWrapper(
        {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": proxy.port}, "hang-read"
    )
    wrapper.ensure_connection()
    assert wrapper.connection.answer_timeout > 3 * HEALTH_CHECK_SECONDS  # the deadline it skips
    wrapper.health_check_done = False  # a new request on the kept connection
    proxy.hang()

    def read() -> object:
        with wrapper.prepared_cursor() as cursor:
            cursor.execute("SELECT %s::int", [1])
            return cursor.fetchall()

    started = time.monotonic()
    try:
        with pytest.raises(OperationalError):
            wrapper.read_as_health_check(read)
        assert HEALTH_CHECK_SECONDS * 0.9 < time.monotonic() - started < 2.5
        assert unanswered_recently("hang-read")
    finally:
        wrapper.close()


def test_a_connection_to_a_hung_server_gives_up_at_the_connect_timeout(proxy):
    proxy.hang()
    started = time.monotonic()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(_url(proxy.port), connect_timeout=2)
    assert time.monotonic() - started < 3.5


def test_gunicorn_answers_503s_in_seconds_and_loses_no_worker_on_a_hung_database(proxy, tmp_path):
    stand = stand_prepare(PORT)
    # The session was signed here: the server must know this process's key.
    env = server_env(_url(proxy.port), tmp_path, PORT) | {"SECRET_KEY": settings.SECRET_KEY}
    with gunicorn(env, PORT, 3, tmp_path / "gunicorn.log") as log_path:
        figures = drill(stand, proxy, PORT, log_path, hang_seconds=6)
    figures.print()
    failures = failures_of(figures, half_written(stand), limit=5.0)
    assert not failures, failures
    assert figures.first_503_seconds is not None and figures.first_503_seconds < 5
    assert max(figures.healthz_during_hang) < 5
    assert figures.workers_killed == 0


def test_with_a_replica_the_read_only_pages_keep_answering_marked_out_of_date(proxy, tmp_path):
    """The primary hangs behind the proxy; the replica (here: the same database, straight)
    answers «Мои записи» and the directory with a notice; everything else is refused."""
    import httpx

    stand = stand_prepare(PORT)
    env = server_env(_url(proxy.port), tmp_path, PORT) | {
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_REPLICA_URL": _url(int(connection.settings_dict["PORT"] or 5432)),
    }
    base = f"http://127.0.0.1:{PORT}"
    with (
        gunicorn(env, PORT, 3, tmp_path / "gunicorn.log") as log_path,
        httpx.Client(base_url=base, cookies={"sessionid": stand.cookie}, timeout=40) as page,
    ):
        assert page.get("/appointments/").status_code == 200
        confirm = page.get(f"/booking/slot/{stand.slot_ids[0]}/")
        assert confirm.status_code == 200
        proxy.hang()
        try:
            for _ in range(3):
                started = time.monotonic()
                mine = page.get("/appointments/")
                assert time.monotonic() - started < 5
                assert mine.status_code == 200, mine.status_code
                assert mine.headers["X-Data-Source"] == "replica"
                assert "могут быть неактуальны" in mine.text
            directory = page.get("/districts/")
            assert directory.status_code == 200 and "могут быть неактуальны" in directory.text
            fields = r'name="(csrfmiddlewaretoken|key)" value="([^"]+)"'
            form = dict(re.findall(fields, confirm.text))
            refused = page.post(
                f"/booking/slot/{stand.slot_ids[0]}/",
                data=form,
                headers={"Referer": f"{base}/booking/slot/{stand.slot_ids[0]}/"},
            )
            assert refused.status_code == 503  # writes are refused, not half-done
            assert page.get("/cabinet/").status_code == 503
            health = httpx.get(f"{base}/healthz", timeout=10)
            assert health.status_code == 200 and health.json()["status"] == "degraded"
        finally:
            proxy.resume()
        assert "WORKER TIMEOUT" not in log_path.read_text()
    assert half_written(stand)["appointments of the hang"] == 0
