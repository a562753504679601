"""The session's user read stands for the connection's health check (PostgreSQL).

Django's ``CONN_HEALTH_CHECKS`` send ``SELECT 1`` before the first statement of every
request on a kept connection: a round trip that cost 0.24–0.32 ms of every page
(docs/performance.md, «The user's read as the health check»). A logged-in request's first
statement is the read of its user, which now does that work itself
(`DatabaseWrapper.read_as_health_check`): what a patient sees stays what the check gave —
a connection the server closed since is replaced and the page answers; a hung server
is given up on within the check's second (tests/core/test_database_hang.py).

The test client unhooks Django's per-request connection handling; each request here is
preceded by ``close_old_connections()``, what gunicorn's ``request_started`` runs.
"""

from unittest import mock

import psycopg
import pytest
from django.db import close_old_connections, connection

from portal.core.postgresql.base import DatabaseWrapper, unanswered_forget

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(settings):
    if connection.vendor != "postgresql":
        pytest.skip("the health check is PostgreSQL's")
    # Production's engine: the session comes from the shared cache, so the user's read is
    # the request's first statement (with the database engine the session's read is).
    settings.SESSION_ENGINE = "portal.core.sessions"
    unanswered_forget()
    yield
    unanswered_forget()


@pytest.fixture
def checks():
    """Every ``SELECT 1`` health check sent, counted."""
    with mock.patch.object(
        DatabaseWrapper, "is_usable", autospec=True, side_effect=DatabaseWrapper.is_usable
    ) as is_usable:
        yield is_usable


def _request(client, url: str):
    close_old_connections()  # a new request: the kept connection's check is due again
    return client.get(url)


def _kill_the_backend() -> int:
    """The server ends this process's kept connection (as a restart or an idle timeout
    would); returns the pid it had."""
    pid = connection.connection.info.backend_pid
    dsn = connection.connection.info.dsn
    with psycopg.connect(dsn, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    return pid


def test_a_logged_in_page_sends_no_select_1(client, patient, checks):
    client.force_login(patient)
    assert _request(client, "/cabinet/").status_code == 200
    checks.reset_mock()
    assert _request(client, "/cabinet/").status_code == 200
    assert _request(client, "/appointments/").status_code == 200
    assert checks.call_count == 0


def test_a_page_without_a_user_still_checks_the_connection_first(client, checks):
    connection.ensure_connection()
    assert _request(client, "/healthz").status_code == 200
    assert checks.call_count == 1


def test_a_connection_the_server_closed_is_replaced_and_the_page_answers(client, patient):
    client.force_login(patient)
    assert _request(client, "/cabinet/").status_code == 200
    killed = _kill_the_backend()
    response = _request(client, "/cabinet/")
    assert response.status_code == 200
    assert "Соколов" in response.content.decode()
    assert connection.connection.info.backend_pid != killed


def test_without_the_check_the_same_page_would_have_failed(client, patient):
    """Control: a read that took the check's place and mended nothing gives the patient
    the try-again page: the replacement above is what saves the request."""

    def unmended(wrapper: DatabaseWrapper, read):
        wrapper.health_check_done = True
        return read()

    client.force_login(patient)
    client.raise_request_exception = False  # the page the patient gets, as in production
    assert _request(client, "/cabinet/").status_code == 200
    _kill_the_backend()
    with mock.patch.object(
        DatabaseWrapper, "read_as_health_check", autospec=True, side_effect=unmended
    ):
        response = _request(client, "/cabinet/")
    close_old_connections()  # the request's end: the broken connection goes
    assert response.status_code == 503
    assert "Сервис временно недоступен" in response.content.decode()
